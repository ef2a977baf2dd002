//! SVG charts of one indicator with `plotters`, and the HTML table of the same figures
//! that the portal puts next to each chart (a chart alone is not accessible).

use patto_core::reporting::Decimal;
use patto_core::social_report::IndicatorTable;
use plotters::prelude::*;

use crate::labels::{self, format_value, unit_label};
use crate::{ReportError, escape};

/// Which chart of an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// The organisation's values over the years.
    Trend,
    /// The organisation's values against the coalition's median, year by year.
    Comparison,
}

impl ChartKind {
    fn slug(self) -> &'static str {
        match self {
            ChartKind::Trend => "andamento",
            ChartKind::Comparison => "confronto",
        }
    }
}

/// The organisation's line: Bootstrap Italia's primary blue, 4.5:1 or more on white.
const OWN: RGBColor = RGBColor(0x00, 0x66, 0xCC);
/// The median's line: a dark orange, also readable on white and apart from the blue.
const MEDIAN: RGBColor = RGBColor(0x99, 0x4D, 0x00);

const WIDTH: u32 = 640;
const HEIGHT: u32 = 320;

/// One chart of an indicator of a report about `subject`, as an SVG document with a
/// `<title>` and a `<desc>` that state every figure it shows, `role="img"`, and ids
/// unique per indicator and kind (`chart-CODE-andamento`), so that several charts can
/// share a page.
pub fn chart_svg(
    table: &IndicatorTable,
    subject: &str,
    kind: ChartKind,
) -> Result<String, ReportError> {
    let own: Vec<(i32, f64)> = table
        .values
        .iter()
        .map(|v| (v.year, v.value.to_f64()))
        .collect();
    let median: Vec<(i32, f64)> = match kind {
        ChartKind::Trend => Vec::new(),
        ChartKind::Comparison => table
            .coalition_median
            .iter()
            .map(|m| (m.year, m.median.to_f64()))
            .collect(),
    };
    let years = own.iter().chain(&median).map(|(year, _)| *year);
    let (first, last) = match (years.clone().min(), years.max()) {
        (Some(first), Some(last)) => (first, last),
        _ => (0, 1),
    };
    let values = own.iter().chain(&median).map(|(_, value)| *value);
    let top = values.clone().fold(0.0_f64, f64::max);
    let bottom = values.fold(0.0_f64, f64::min);
    let top = if top <= bottom {
        bottom + 1.0
    } else {
        top * 1.1
    };
    let unit = unit_label(table.unit);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(first - 1..last + 1, bottom..top)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_labels(usize::try_from(last - first + 3).unwrap_or(3))
            .x_label_formatter(&|year| year.to_string())
            .y_desc(unit)
            .draw()
            .map_err(drawing)?;
        let own_name = subject.to_owned();
        chart
            .draw_series(LineSeries::new(own.iter().copied(), OWN.stroke_width(3)))
            .map_err(drawing)?
            .label(own_name)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], OWN.stroke_width(3)));
        chart
            .draw_series(own.iter().map(|point| Circle::new(*point, 4, OWN.filled())))
            .map_err(drawing)?;
        if kind == ChartKind::Comparison {
            chart
                .draw_series(LineSeries::new(
                    median.iter().copied(),
                    MEDIAN.stroke_width(3),
                ))
                .map_err(drawing)?
                .label(labels::MEDIAN)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], MEDIAN.stroke_width(3))
                });
            chart
                .draw_series(
                    median
                        .iter()
                        .map(|point| TriangleMarker::new(*point, 5, MEDIAN.filled())),
                )
                .map_err(drawing)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    let id = format!("chart-{}-{}", table.code, kind.slug());
    let title = match kind {
        ChartKind::Trend => format!("{}: andamento per {subject}", table.name.it),
        ChartKind::Comparison => format!(
            "{}: {subject} a confronto con la mediana dei Comuni",
            table.name.it
        ),
    };
    let mut description = table
        .values
        .iter()
        .map(|v| format!("{} {}: {} {unit}", subject, v.year, format_value(&v.value)))
        .collect::<Vec<_>>();
    if kind == ChartKind::Comparison {
        description.extend(table.coalition_median.iter().map(|m| {
            format!(
                "{} {}: {} {unit}",
                labels::MEDIAN,
                m.year,
                format_value(&m.median)
            )
        }));
    }
    if description.is_empty() {
        description.push(labels::NO_DATA.to_owned());
    }
    Ok(accessible(&svg, &id, &title, &description.join("; ")))
}

/// Adds `role="img"`, a `<title>` and a `<desc>` to an SVG document.
fn accessible(svg: &str, id: &str, title: &str, description: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg.to_owned();
    };
    let Some(end) = svg[start..].find('>').map(|at| start + at) else {
        return svg.to_owned();
    };
    let (head, tail) = svg.split_at(end);
    format!(
        "{head} role=\"img\" aria-labelledby=\"{id}-title {id}-desc\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>{}",
        escape(title),
        escape(description),
        &tail[1..]
    )
}

fn drawing<E: std::error::Error>(error: E) -> ReportError {
    ReportError::Chart(error.to_string())
}

/// The figures of an indicator as an HTML table (year, value, coalition median), with
/// a caption naming the indicator, its unit and its polarity: what the charts show, for
/// readers who cannot see them.
pub fn figures_table_html(table: &IndicatorTable, subject: &str) -> String {
    let unit = unit_label(table.unit);
    let mut years: Vec<i32> = table
        .values
        .iter()
        .map(|v| v.year)
        .chain(table.coalition_median.iter().map(|m| m.year))
        .collect();
    years.sort_unstable();
    years.dedup();
    let cell =
        |value: Option<&Decimal>| value.map_or_else(|| labels::NO_DATA.to_owned(), format_value);
    let mut html = format!(
        "<table class=\"table\"><caption>{} ({}; {})</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{} — {}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        escape(&table.name.it),
        escape(unit),
        labels::polarity_label(table.polarity),
        labels::YEAR,
        escape(subject),
        labels::VALUE,
        labels::MEDIAN,
    );
    for year in years {
        let own = table
            .values
            .iter()
            .find(|v| v.year == year)
            .map(|v| &v.value);
        let median = table
            .coalition_median
            .iter()
            .find(|m| m.year == year)
            .map(|m| &m.median);
        html.push_str(&format!(
            "<tr><th scope=\"row\">{year}</th><td>{}</td><td>{}</td></tr>",
            escape(&cell(own)),
            escape(&cell(median)),
        ));
    }
    html.push_str("</tbody></table>");
    html
}
