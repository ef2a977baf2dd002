//! `patto bench portal`: loads the demo data into a scratch database, serves the real
//! router on a loopback port, and asks for each page type of the public portal in turn,
//! reporting the median time to the last byte. One request at a time, so that the
//! figure is the time to render a page, not a measure of concurrency.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use clap::Args;

use super::{ScratchDir, Workplace, median};
use crate::config::GlobalOptions;
use crate::messages::Message;

#[derive(Args, Debug)]
pub struct PortalArgs {
    /// Requests per page type; the time reported is their median.
    #[arg(long, default_value_t = 50)]
    pub requests: usize,
}

/// One page of every type: (page type, path).
const PAGE_TYPES: &[(&str, &str)] = &[
    ("home", "/"),
    ("comuni", "/comuni"),
    ("comune", "/comuni/cefalu"),
    ("patto", "/patto"),
    ("documento", "/documenti/patto-sicurezza-legalita"),
    ("documento (en)", "/en/documenti/patto-sicurezza-legalita"),
    ("bilancio", "/bilanci/bilancio-sociale-cefalu-2024"),
    ("bilancio (en)", "/en/bilanci/bilancio-sociale-cefalu-2024"),
    ("bilancio.pdf", "/bilanci/bilancio-sociale-cefalu-2024.pdf"),
    (
        "grafico.svg",
        "/bilanci/bilancio-sociale-cefalu-2024/grafici/AMB01-confronto.svg",
    ),
    ("dati", "/dati"),
    ("impegni.csv", "/dati/impegni.csv"),
    ("indicatori.json", "/dati/indicatori.json"),
    ("catalogo.jsonld", "/dati/catalogo.jsonld"),
    ("feed.atom", "/feed.atom"),
    ("sitemap.xml", "/sitemap.xml"),
    ("accessibilita", "/accessibilita"),
    ("404", "/pagina-che-non-esiste"),
];

pub async fn run(global: &GlobalOptions, args: PortalArgs) -> anyhow::Result<()> {
    if args.requests == 0 {
        bail!("give at least one request per page type with --requests");
    }
    let workplace = Workplace::choose(global, false).await?;
    let measured = measure(global, &args, &workplace).await;
    let cleaned = workplace.clean_up().await;
    measured.and(cleaned)
}

async fn measure(
    global: &GlobalOptions,
    args: &PortalArgs,
    workplace: &Workplace,
) -> anyhow::Result<()> {
    // The demo writes its keys into the data directory: a scratch one, never the
    // configured one.
    let keys = ScratchDir::new("patto-bench-portal")?;
    let database_url = match &workplace.config {
        patto_engine::DatabaseConfig::DataDir(_) => None,
        patto_engine::DatabaseConfig::Url(url) => Some(url.clone()),
    };
    let data_dir = match &workplace.config {
        patto_engine::DatabaseConfig::DataDir(dir) => dir.clone(),
        patto_engine::DatabaseConfig::Url(_) => keys.0.clone(),
    };
    let demo = GlobalOptions {
        data_dir,
        database_url,
        server_key: None,
        ..global.clone()
    };
    println!(
        "{}",
        Message::BenchPortalSetup {
            requests: args.requests,
            target: workplace.config.describe(),
        }
        .text(global.language)
    );
    if crate::demo::load(&demo).await? != std::process::ExitCode::SUCCESS {
        bail!("the demo data could not be loaded into the benchmark's scratch database");
    }
    let engine = Arc::new(demo.engine().await?);
    let api = patto_api::ApiConfig {
        server_key: Some(Arc::new(demo.server_key()?)),
        ..patto_api::ApiConfig::default()
    };
    let router = crate::server::router(
        engine.clone(),
        Arc::new(patto_api::EngineSessions(engine.clone())),
        api,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = crate::http_client::builder().build()?;
    for (page, path) in PAGE_TYPES {
        let url = format!("http://{address}{path}");
        let mut times = Vec::with_capacity(args.requests);
        let mut bytes = 0;
        for _ in 0..args.requests {
            let started = Instant::now();
            let response = client.get(&url).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            let expected = if *page == "404" { 404 } else { 200 };
            if status.as_u16() != expected {
                bail!("{path} answered {status}, not {expected}");
            }
            bytes = body.len();
        }
        println!(
            "{}",
            Message::BenchPortalPage {
                page: (*page).to_owned(),
                path: (*path).to_owned(),
                median_ms: median(&mut times),
                bytes,
            }
            .text(global.language)
        );
    }
    // The scratch database is dropped afterwards even with connections open (the
    // clean-up forces it on PostgreSQL; SQLite's directory is simply removed).
    server.abort();
    let _ = server.await;
    Ok(())
}
