//! Reading a baseline survey file (CSV or XLSX) into validated entries, every bad cell
//! reported by row, column and reason. Nothing here touches the database: the caller
//! resolves organisations and saves the entries in one transaction.
//!
//! Spreadsheets from offices are not tidy, so the reader accepts what they really
//! contain: title rows above the header (often merged across the columns), header and
//! data cells merged across rows (every cell of a merged region reads as its top-left
//! value, as the person sees it), numbers with decimal commas, dates as Excel serials or
//! as `31/12/2024`, and headers in Italian or English, in any case.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{Datelike, NaiveDate};

use patto_core::reporting::{Decimal, FIRST_YEAR, Model, RowProblem, SurveyEntry, duplicate_rows};

/// The format of a survey file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurveyFormat {
    /// Comma-, semicolon- or tab-separated text in UTF-8.
    Csv,
    /// An Office Open XML workbook; its first sheet is read.
    Xlsx,
}

impl SurveyFormat {
    /// The format a file name's extension says, if any.
    pub fn from_file_name(name: &str) -> Option<SurveyFormat> {
        let lower = name.to_lowercase();
        if lower.ends_with(".csv") {
            Some(SurveyFormat::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(SurveyFormat::Xlsx)
        } else {
            None
        }
    }
}

/// One cell as the reader sees it.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    /// A spreadsheet error such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            Cell::Number(_) | Cell::Date(_) | Cell::Error(_) => false,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.trim().to_owned(),
            Cell::Number(number) => format!("{number}"),
            Cell::Date(date) => date.format("%d/%m/%Y").to_string(),
            Cell::Error(error) => error.clone(),
        }
    }
}

/// A sheet: rows with their 1-based numbers as the spreadsheet shows them.
struct Sheet {
    rows: Vec<(usize, Vec<Cell>)>,
}

/// The columns the reader understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Organisation,
    Indicator,
    Year,
    Date,
    Value,
    Source,
    Note,
    /// Columns that repeat what the model or the directory already says (an indicator's
    /// name, its unit, a Comune's name, the licence of an export): read past.
    Informational,
}

impl Column {
    fn from_header(header: &str) -> Option<Column> {
        let name = header.trim().to_lowercase().replace('_', " ");
        Some(match name.as_str() {
            "comune" | "ente" | "organizzazione" | "organisation" | "organization" => {
                Column::Organisation
            }
            "indicatore" | "codice indicatore" | "codice" | "indicator" => Column::Indicator,
            "anno" | "year" => Column::Year,
            "data" | "data di riferimento" | "data riferimento" | "date" | "reference date" => {
                Column::Date
            }
            "valore" | "value" => Column::Value,
            "fonte" | "source" => Column::Source,
            "note" | "nota" | "notes" => Column::Note,
            "nome indicatore" | "descrizione" | "indicator name" | "unità" | "unita" | "unit"
            | "nome comune" | "nome ente" | "organisation name" | "codice istat" | "istat code"
            | "licenza" | "licence" | "license" | "versione modello" | "model version"
            | "inserito il" | "entered at" => Column::Informational,
            _ => return None,
        })
    }

    /// The name used in problems when the column is missing.
    fn canonical(self) -> &'static str {
        match self {
            Column::Organisation => "comune",
            Column::Indicator => "indicatore",
            Column::Year => "anno",
            Column::Date => "data",
            Column::Value => "valore",
            Column::Source => "fonte",
            Column::Note => "note",
            Column::Informational => "",
        }
    }
}

/// How many rows from the top the header is looked for in: title rows come first.
const HEADER_SEARCH_ROWS: usize = 10;

/// Reads a survey file into entries, or every problem found in it.
pub(crate) fn read_entries(
    bytes: &[u8],
    format: SurveyFormat,
    model: &Model,
    default_organisation: Option<&str>,
    last_year: i32,
) -> Result<Vec<(usize, SurveyEntry)>, Vec<RowProblem>> {
    let sheet = match format {
        SurveyFormat::Csv => read_csv(bytes),
        SurveyFormat::Xlsx => read_xlsx(bytes),
    }
    .map_err(|reason| {
        vec![RowProblem {
            row: 1,
            column: String::new(),
            reason,
        }]
    })?;
    interpret(&sheet, model, default_organisation, last_year)
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        "the file is not UTF-8 text; in the spreadsheet choose \"Save as\" and the format \"CSV UTF-8\"".to_owned()
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    // Italian spreadsheets write CSV with semicolons because the comma is the decimal
    // separator; a semicolon in the first line settles it.
    let delimiter = if first_line.contains(';') {
        b';'
    } else if first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| format!("the CSV cannot be read: {error}"))?;
        let line = record.position().map_or(index + 1, |p| p.line() as usize);
        let cells = record
            .iter()
            .map(|field| {
                if field.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(field.to_owned())
                }
            })
            .collect();
        rows.push((line, cells));
    }
    Ok(Sheet { rows })
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, String> {
    let unreadable = |error: calamine::XlsxError| {
        format!(
            "the workbook cannot be read ({error}); save it again as .xlsx from the spreadsheet"
        )
    };
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let Some(name) = workbook.sheet_names().first().cloned() else {
        return Err("the workbook has no sheet".to_owned());
    };
    let range = workbook.worksheet_range(&name).map_err(unreadable)?;
    let merged = workbook
        .merge_cells_by_sheet_name(&name)
        .map_err(unreadable)?;
    let Some((first_row, first_column)) = range.start() else {
        return Ok(Sheet { rows: Vec::new() });
    };
    let (first_row, first_column) = (first_row as usize, first_column as usize);
    let mut grid: Vec<Vec<Cell>> = range
        .rows()
        .map(|row| {
            let mut cells = vec![Cell::Empty; first_column];
            cells.extend(row.iter().map(cell_of));
            cells
        })
        .collect();
    // Every cell of a merged region shows its top-left value.
    for region in merged {
        let (top, left) = (region.start.0 as usize, region.start.1 as usize);
        let (bottom, right) = (region.end.0 as usize, region.end.1 as usize);
        let Some(value) = top
            .checked_sub(first_row)
            .and_then(|row| grid.get(row))
            .and_then(|row| row.get(left))
            .cloned()
        else {
            continue;
        };
        for row in top..=bottom {
            let Some(cells) = row.checked_sub(first_row).and_then(|r| grid.get_mut(r)) else {
                continue;
            };
            if cells.len() <= right {
                cells.resize(right + 1, Cell::Empty);
            }
            for cell in &mut cells[left..=right] {
                *cell = value.clone();
            }
        }
    }
    Ok(Sheet {
        rows: grid
            .into_iter()
            .enumerate()
            .map(|(index, cells)| (first_row + index + 1, cells))
            .collect(),
    })
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(text) => Cell::Text(text.clone()),
        Data::Int(number) => Cell::Number(*number as f64),
        Data::Float(number) => Cell::Number(*number),
        Data::Bool(value) => Cell::Text(value.to_string()),
        Data::DateTime(datetime) => {
            let (year, month, day, ..) = datetime.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())
                .map_or(Cell::Number(datetime.as_f64()), Cell::Date)
        }
        Data::DateTimeIso(text) | Data::DurationIso(text) => Cell::Text(text.clone()),
        Data::Error(error) => Cell::Error(format!("{error}")),
    }
}

/// The column layout found in the header row.
struct Layout {
    header_row: usize,
    header_index: usize,
    columns: Vec<(usize, Column, String)>,
}

impl Layout {
    fn find(&self, column: Column) -> Option<(usize, &str)> {
        self.columns
            .iter()
            .find(|(_, c, _)| *c == column)
            .map(|(index, _, header)| (*index, header.as_str()))
    }
}

fn find_header(sheet: &Sheet) -> Result<Layout, Vec<RowProblem>> {
    for (index, (row, cells)) in sheet.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let known: Vec<Option<Column>> = cells
            .iter()
            .map(|cell| Column::from_header(&cell.text()))
            .collect();
        if !known.contains(&Some(Column::Indicator)) || !known.contains(&Some(Column::Value)) {
            continue;
        }
        let mut problems = Vec::new();
        let mut columns = Vec::new();
        for (position, (cell, column)) in cells.iter().zip(known).enumerate() {
            let header = cell.text();
            match column {
                Some(column) => {
                    if columns.iter().any(|(_, c, _)| *c == column && column != Column::Informational) {
                        problems.push(RowProblem {
                            row: *row,
                            column: header.clone(),
                            reason: "this column appears twice; keep one".to_owned(),
                        });
                    }
                    columns.push((position, column, header));
                }
                None if cell.is_empty() => {}
                None => problems.push(RowProblem {
                    row: *row,
                    column: header,
                    reason: "unknown column; the columns read are comune, indicatore, anno (or data), valore, fonte, note — rename or remove it so that nothing in it is silently ignored".to_owned(),
                }),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        return Ok(Layout {
            header_row: *row,
            header_index: index,
            columns,
        });
    }
    Err(vec![RowProblem {
        row: 1,
        column: String::new(),
        reason: format!(
            "no header row with the columns `indicatore` and `valore` in the first {HEADER_SEARCH_ROWS} rows; add one"
        ),
    }])
}

fn interpret(
    sheet: &Sheet,
    model: &Model,
    default_organisation: Option<&str>,
    last_year: i32,
) -> Result<Vec<(usize, SurveyEntry)>, Vec<RowProblem>> {
    let layout = find_header(sheet)?;
    let mut problems = Vec::new();
    if layout.find(Column::Year).is_none() && layout.find(Column::Date).is_none() {
        problems.push(RowProblem {
            row: layout.header_row,
            column: Column::Year.canonical().to_owned(),
            reason:
                "the file has neither an `anno` nor a `data` column; add the year of each value"
                    .to_owned(),
        });
    }
    if layout.find(Column::Organisation).is_none() && default_organisation.is_none() {
        problems.push(RowProblem {
            row: layout.header_row,
            column: Column::Organisation.canonical().to_owned(),
            reason: "the file has no `comune` column and no organisation was given; add the column or name the organisation".to_owned(),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let header_cells = &sheet.rows[layout.header_index].1;
    let mut entries = Vec::new();
    for (row, cells) in sheet.rows.iter().skip(layout.header_index + 1) {
        if cells.iter().all(Cell::is_empty) || repeats_header(cells, header_cells) {
            continue;
        }
        match entry_of(*row, cells, &layout, model, default_organisation, last_year) {
            Ok(entry) => entries.push((*row, entry)),
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    problems.extend(duplicate_rows(&entries));
    if entries.is_empty() && problems.is_empty() {
        problems.push(RowProblem {
            row: layout.header_row,
            column: String::new(),
            reason: "the file has a header but no values".to_owned(),
        });
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        problems.sort_by_key(|problem| problem.row);
        Err(problems)
    }
}

/// A header merged over two rows reads, on its second row, as the header again.
fn repeats_header(cells: &[Cell], header: &[Cell]) -> bool {
    cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| !cell.is_empty())
        .all(|(index, cell)| header.get(index).is_some_and(|h| h.text() == cell.text()))
}

fn entry_of(
    row: usize,
    cells: &[Cell],
    layout: &Layout,
    model: &Model,
    default_organisation: Option<&str>,
    last_year: i32,
) -> Result<SurveyEntry, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut problem = |column: &str, reason: String| {
        problems.push(RowProblem {
            row,
            column: column.to_owned(),
            reason,
        });
    };
    let cell = |column: Column| {
        layout
            .find(column)
            .map(|(index, header)| (cells.get(index).unwrap_or(&Cell::Empty), header))
    };

    let organisation = match cell(Column::Organisation) {
        Some((value, _)) if !value.is_empty() => Some(value.text().to_lowercase()),
        Some((_, header)) if default_organisation.is_none() => {
            problem(
                header,
                "empty; write the organisation's short name (slug)".to_owned(),
            );
            None
        }
        _ => default_organisation.map(str::to_owned),
    };

    let (indicator_cell, indicator_header) =
        cell(Column::Indicator).unwrap_or((&Cell::Empty, "indicatore"));
    let indicator = match indicator_cell {
        cell if cell.is_empty() => {
            problem(
                indicator_header,
                "empty; write the indicator's code".to_owned(),
            );
            None
        }
        cell => {
            let code = cell.text();
            match model
                .indicators
                .iter()
                .find(|indicator| indicator.code.eq_ignore_ascii_case(&code))
            {
                Some(indicator) => Some(indicator),
                None => {
                    problem(
                        indicator_header,
                        format!(
                            "`{code}` is not an indicator of the reporting model (version {}); use one of its codes, e.g. {}",
                            model.version,
                            model
                                .indicators
                                .iter()
                                .take(3)
                                .map(|i| i.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    None
                }
            }
        }
    };

    let mut year_failed = false;
    let mut year_from_column = None;
    if let Some((value, header)) = cell(Column::Year) {
        match year_of(value, last_year) {
            Ok(year) => year_from_column = year,
            Err(reason) => {
                year_failed = true;
                problem(header, reason);
            }
        }
    }
    let mut year_from_date = None;
    if let Some((value, header)) = cell(Column::Date) {
        match date_of(value) {
            Ok(date) => year_from_date = date.map(|date| (date.year(), header)),
            Err(reason) => {
                year_failed = true;
                problem(header, reason);
            }
        }
    }
    let year = match (year_from_column, year_from_date) {
        (Some(year), Some((date_year, header))) if year != date_year => {
            problem(
                header,
                format!(
                    "the date is in {date_year} but the year column says {year}; correct one of them"
                ),
            );
            None
        }
        (Some(year), _) => Some(year),
        (None, Some((year, header))) => {
            if (FIRST_YEAR..=last_year).contains(&year) {
                Some(year)
            } else {
                problem(
                    header,
                    format!("{year} is not a year between {FIRST_YEAR} and {last_year}"),
                );
                None
            }
        }
        (None, None) => {
            if !year_failed {
                let header = cell(Column::Year)
                    .or(cell(Column::Date))
                    .map_or("anno", |(_, header)| header);
                problem(
                    header,
                    "empty; write the year the value refers to".to_owned(),
                );
            }
            None
        }
    };

    let (value_cell, value_header) = cell(Column::Value).unwrap_or((&Cell::Empty, "valore"));
    let value = match value_cell {
        Cell::Empty => Err("empty; write the value, or remove the row".to_owned()),
        Cell::Text(text) if text.trim().is_empty() => {
            Err("empty; write the value, or remove the row".to_owned())
        }
        Cell::Text(text) => Decimal::parse(text),
        Cell::Number(number) => Decimal::from_f64(*number),
        Cell::Date(date) => Err(format!(
            "{} is a date, not a number; format the cell as a number",
            date.format("%d/%m/%Y")
        )),
        Cell::Error(error) => Err(format!(
            "the cell holds the spreadsheet error {error}; fix its formula"
        )),
    };
    let value = match (value, indicator) {
        (Ok(value), Some(indicator)) => match indicator.unit.check(&value) {
            Ok(()) => Some(value),
            Err(reason) => {
                problem(
                    value_header,
                    format!(
                        "{reason} (indicator {}, unit {})",
                        indicator.code, indicator.unit
                    ),
                );
                None
            }
        },
        (Ok(_), None) => None,
        (Err(reason), _) => {
            problem(value_header, reason);
            None
        }
    };

    let source = cell(Column::Source)
        .map(|(value, _)| value.text())
        .unwrap_or_default();
    let note = cell(Column::Note)
        .map(|(value, _)| value.text())
        .unwrap_or_default();

    match (organisation, indicator, year, value) {
        (Some(organisation), Some(indicator), Some(year), Some(value)) if problems.is_empty() => {
            Ok(SurveyEntry {
                organisation,
                indicator: indicator.code.clone(),
                year,
                value,
                source: if source.is_empty() {
                    indicator.source.clone()
                } else {
                    source
                },
                note,
            })
        }
        _ => Err(problems),
    }
}

/// A year from a cell: a whole number, written or typed.
fn year_of(cell: &Cell, last_year: i32) -> Result<Option<i32>, String> {
    let year = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(text) if text.trim().is_empty() => return Ok(None),
        Cell::Text(text) => text
            .trim()
            .parse::<i32>()
            .map_err(|_| format!("`{}` is not a year; write it as 2024", text.trim()))?,
        Cell::Number(number) if number.fract() == 0.0 && number.abs() < 1e6 => *number as i32,
        Cell::Number(number) => return Err(format!("{number} is not a year; write it as 2024")),
        Cell::Date(date) => date.year(),
        Cell::Error(error) => return Err(format!("the cell holds the spreadsheet error {error}")),
    };
    if (FIRST_YEAR..=last_year).contains(&year) {
        Ok(Some(year))
    } else {
        Err(format!(
            "{year} is not a year between {FIRST_YEAR} and {last_year}"
        ))
    }
}

/// The day an Excel serial counts to: day 1 is 1 January 1900, and Excel counts a 29
/// February 1900 that never was (serial 60), so serials from 61 on are one day ahead.
fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Serial 60 is Excel's 29 February 1900, a day that does not exist.
    let days = match days {
        60 => return None,
        61.. => days - 1,
        _ => days,
    };
    NaiveDate::from_ymd_opt(1899, 12, 31)?.checked_add_days(chrono::Days::new(days as u64))
}

/// A date from a cell: a date cell, an Excel serial number (as a CSV saved from Excel
/// writes a date column formatted as a number), `31/12/2024` or `2024-12-31`.
fn date_of(cell: &Cell) -> Result<Option<NaiveDate>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(date) => Ok(Some(*date)),
        Cell::Number(serial) => excel_serial_date(*serial)
            .map(Some)
            .ok_or_else(|| format!("{serial} is not a date")),
        Cell::Text(text) if text.trim().is_empty() => Ok(None),
        Cell::Text(text) => {
            let text = text.trim();
            if let Ok(serial) = text.parse::<f64>() {
                return excel_serial_date(serial)
                    .map(Some)
                    .ok_or_else(|| format!("`{text}` is not a date"));
            }
            let date_part = text.split(['T', ' ']).next().unwrap_or(text);
            NaiveDate::parse_from_str(date_part, "%d/%m/%Y")
                .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y-%m-%d"))
                .map(Some)
                .map_err(|_| format!("`{text}` is not a date; write it as 31/12/2024"))
        }
        Cell::Error(error) => Err(format!("the cell holds the spreadsheet error {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};

    fn model() -> Model {
        Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap()
    }

    #[test]
    fn excel_serials_count_the_missing_leap_day() {
        assert_eq!(excel_serial_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(
            excel_serial_date(59.0),
            NaiveDate::from_ymd_opt(1900, 2, 28)
        );
        assert_eq!(excel_serial_date(60.0), None);
        assert_eq!(excel_serial_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(
            excel_serial_date(45657.0),
            NaiveDate::from_ymd_opt(2024, 12, 31)
        );
        assert_eq!(excel_serial_date(0.0), None);
    }

    #[test]
    fn a_semicolon_csv_with_decimal_commas_and_a_title_row_reads() {
        let csv = "Ricognizione 2024;;;\nComune;Indicatore;Anno;Valore;Fonte\ncefalu;amb01;2024;65,3;\ntermini-imerese;SP01;2024;1.234,5;bilancio\n";
        let entries =
            read_entries(csv.as_bytes(), SurveyFormat::Csv, &model(), None, 2026).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, 3);
        assert_eq!(entries[0].1.indicator, "AMB01");
        assert_eq!(entries[0].1.value.as_str(), "65.3");
        assert!(entries[0].1.source.contains("ISPRA"));
        assert_eq!(entries[1].1.value.as_str(), "1234.5");
        assert_eq!(entries[1].1.source, "bilancio");
    }

    #[test]
    fn every_bad_cell_is_reported_and_nothing_is_returned() {
        let csv = "indicatore,anno,valore\nAMB01,2024,150\nXX99,2024,1\nSP04,20x4,2.5\nAMB02,2024,\nAMB01,2024,40\n";
        let problems = read_entries(
            csv.as_bytes(),
            SurveyFormat::Csv,
            &model(),
            Some("cefalu"),
            2026,
        )
        .unwrap_err();
        let seen: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (2, "valore"),
                (3, "indicatore"),
                (4, "anno"),
                (4, "valore"),
                (5, "valore")
            ],
            "{problems:?}"
        );
        assert!(problems[0].reason.contains("percentage"));
    }

    #[test]
    fn unknown_columns_and_non_utf8_files_are_refused() {
        let problems = read_entries(
            b"indicatore;anno;valore;colore\n",
            SurveyFormat::Csv,
            &model(),
            Some("x"),
            2026,
        )
        .unwrap_err();
        assert_eq!(problems[0].column, "colore");
        let problems = read_entries(
            b"indicatore;valore\nAMB01;\xe8\n",
            SurveyFormat::Csv,
            &model(),
            Some("x"),
            2026,
        )
        .unwrap_err();
        assert!(problems[0].reason.contains("UTF-8"));
    }
}
