//! `patto reporting-model` and `patto survey`: loading the reporting model, importing the
//! baseline survey from CSV or XLSX, and exporting it as open data. Loading and importing
//! act as the instance operator who runs the command (`--operator EMAIL`), recorded as the
//! one who loaded the model or entered the values; the API calls the same engine services
//! as the person logged in. Exporting is open data and needs no one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use patto_core::reporting::Model;
use patto_engine::{EngineError, SurveyFormat, SurveyImport};

use crate::config::GlobalOptions;
use crate::messages::Message;

#[derive(Subcommand, Debug)]
pub enum ReportingModelCommand {
    /// Check a reporting model file offline; lists every problem with file:line:column.
    Check {
        /// The model file (TOML), e.g. crates/patto-core/data/reporting-model.toml.
        file: PathBuf,
    },
    /// Load a reporting model file as a new version (raise `version` in the file first).
    Load {
        /// The model file (TOML).
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum SurveyCommand {
    /// Import survey values from a .csv or .xlsx file; nothing is imported if any row is bad.
    Import {
        /// The file: columns comune, indicatore, anno (or data), valore, fonte, note.
        file: PathBuf,
        /// Slug of the organisation of rows without a `comune` column.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Print the survey as open data (CSV or JSON) on standard output.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only this organisation's values (slug).
        #[arg(long)]
        organisation: Option<String>,
        /// Licence of the data, as an SPDX identifier.
        #[arg(long, default_value = patto_core::reporting::DEFAULT_LICENCE)]
        licence: String,
    },
}

/// The formats of `patto survey export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON document with the licence and the values.
    Json,
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

/// `patto reporting-model ...`.
pub async fn reporting_model(
    global: &GlobalOptions,
    command: &ReportingModelCommand,
) -> anyhow::Result<ExitCode> {
    let language = global.language;
    match command {
        ReportingModelCommand::Check { file } => {
            let source = crate::files::read_text(file)?;
            let name = file_name(file);
            match Model::parse(&source, &name) {
                Ok(model) => {
                    println!(
                        "{}",
                        Message::ReportingModelValid {
                            file: &name,
                            version: model.version,
                            areas: model.areas.len(),
                            indicators: model.indicators.len(),
                        }
                        .text(language)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for problem in problems {
                        eprintln!("{problem}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ReportingModelCommand::Load { file } => {
            let source = crate::files::read_text(file)?;
            let engine = global.engine().await?;
            let operator = global.operator(&engine).await?;
            let stored = engine
                .load_reporting_model(operator, &source, &file_name(file))
                .await?;
            println!(
                "{}",
                Message::ReportingModelLoaded {
                    version: stored.version,
                    sha256: &stored.sha256,
                }
                .text(language)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `patto survey ...`.
pub async fn survey(global: &GlobalOptions, command: &SurveyCommand) -> anyhow::Result<ExitCode> {
    let language = global.language;
    match command {
        SurveyCommand::Import { file, organisation } => {
            let name = file_name(file);
            let Some(format) = SurveyFormat::from_file_name(&name) else {
                eprintln!(
                    "{}",
                    Message::SurveyUnknownFormat { file: &name }.text(language)
                );
                return Ok(ExitCode::FAILURE);
            };
            let bytes = crate::files::read(file)?;
            let engine = global.engine().await?;
            let operator = global.operator(&engine).await?;
            let import = SurveyImport {
                bytes,
                format,
                organisation: organisation.clone(),
            };
            match engine.import_survey(operator, import).await {
                Ok(summary) => {
                    println!(
                        "{}",
                        Message::SurveyImported {
                            inserted: summary.inserted,
                            replaced: summary.replaced,
                            organisations: summary.organisations.join(", "),
                            version: summary.model_version,
                        }
                        .text(language)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(EngineError::Import(problems)) => {
                    for problem in &problems {
                        eprintln!(
                            "{name}: {}",
                            Message::SurveyRowProblem {
                                row: problem.row,
                                column: &problem.column,
                                reason: &problem.reason,
                            }
                            .text(language)
                        );
                    }
                    eprintln!(
                        "{}",
                        Message::SurveyNothingImported {
                            problems: problems.len()
                        }
                        .text(language)
                    );
                    Ok(ExitCode::FAILURE)
                }
                Err(error) => Err(error.into()),
            }
        }
        SurveyCommand::Export {
            format,
            organisation,
            licence,
        } => {
            let engine = global.engine().await?;
            let export = engine
                .export_survey(organisation.as_deref(), Some(licence))
                .await?;
            match format {
                ExportFormat::Csv => print!("{}", export.to_csv()?),
                ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&export)?),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
