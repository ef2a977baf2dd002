//! The public portal: the pages citizens read at `/` — the coalition and its 28 Comuni,
//! the pact and protocols in force with their signatories, commitments, reviews and
//! evidence, the approved Diagnosi di sicurezza e legalità, open data with its DCAT-AP_IT catalogue, the Atom feed, the sitemap and the
//! pages every public-administration site must have. Pages are rendered on the server
//! from templates built into the binary (minijinja), styled with the vendored Bootstrap
//! Italia served from here too, and need no JavaScript. Everything is read from the
//! engine as the public ([`patto_engine::Actor::Public`]): the portal shows what the
//! engine lets anyone see, and decides nothing about who may see what.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use minijinja::Environment;
use pages::TextPage;
use patto_core::Language;
use patto_engine::Engine;

mod assets;
mod consultation;
mod data;
mod diagnosis;
mod error;
mod markdown;
mod opendata;
mod pages;
mod reference;
mod reports;
mod templates;
mod text;

pub use error::{Outcome, PortalError};

/// How the portal is set up.
#[derive(Clone, Debug, Default)]
pub struct PortalConfig {
    /// The fingerprint of the key that seals evidence bundles (`SHA256:...`), shown
    /// beside each download; `None` when the server has no key, and then no download is
    /// offered.
    pub server_fingerprint: Option<String>,
    /// The proxies whose `X-Forwarded-For` is believed when telling clients apart for
    /// the consultation's rate limit.
    pub trusted_proxies: patto_engine::TrustedProxies,
}

/// The portal's shared state.
pub(crate) struct Portal {
    engine: Arc<Engine>,
    server_fingerprint: Option<String>,
    trusted_proxies: patto_engine::TrustedProxies,
    nonce_key: consultation::NonceKey,
    comuni: BTreeMap<String, reference::ComuneFacts>,
    templates: Environment<'static>,
    italian: text::Texts,
    english: text::Texts,
    pdfs: reports::PdfCache,
}

impl Portal {
    fn texts(&self, language: Language) -> &text::Texts {
        match language {
            Language::It => &self.italian,
            Language::En => &self.english,
        }
    }
}

/// The content security policy of every portal answer: everything from this host, no
/// script at all, no framing.
const CSP: &str = "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The portal's routes, to merge into the server's router: the pages in Italian at `/`
/// and in English at `/en`, the open data, the feed, the sitemap, robots.txt and the
/// built-in assets; any other address gets the 404 page.
pub fn router<S: Clone + Send + Sync + 'static>(
    engine: Arc<Engine>,
    config: PortalConfig,
) -> Router<S> {
    let portal = Arc::new(Portal {
        engine,
        server_fingerprint: config.server_fingerprint,
        trusted_proxies: config.trusted_proxies,
        nonce_key: consultation::NonceKey::new(),
        comuni: reference::comuni_by_istat_code(),
        templates: templates::environment(),
        italian: text::Texts::new(Language::It),
        english: text::Texts::new(Language::En),
        pdfs: reports::PdfCache::default(),
    });
    Router::new()
        .merge(page_routes(Language::It))
        .merge(page_routes(Language::En))
        .merge(reports::page_routes(Language::It))
        .merge(reports::page_routes(Language::En))
        .merge(reports::chart_routes())
        .route("/dati/{file}", get(data_file))
        .route("/feed.atom", get(feed))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
        .route("/assets/{*path}", get(assets::serve))
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(portal)
}

/// The pages of one language.
fn page_routes(language: Language) -> Router<Arc<Portal>> {
    let at = |path: &str| pages::href(language, path);
    let mut router =
        Router::new()
            .route(
                &at("/"),
                get(move |State(p): State<Arc<Portal>>| async move {
                    pages::answer(
                        p.clone(),
                        language,
                        "/".to_owned(),
                        pages::home(&p, language),
                    )
                    .await
                }),
            )
            .route(
                &at("/comuni"),
                get(move |State(p): State<Arc<Portal>>| async move {
                    let page = pages::comuni_index(&p, language);
                    pages::answer(p.clone(), language, "/comuni".to_owned(), page).await
                }),
            )
            .route(
                &at("/comuni/{slug}"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        let path = format!("/comuni/{slug}");
                        let page = pages::comune(&p, language, &slug);
                        pages::answer(p.clone(), language, path, page).await
                    },
                ),
            )
            .route(
                &at("/patto"),
                get(move |State(p): State<Arc<Portal>>| async move {
                    let page = pages::pact_index(&p, language);
                    pages::answer(p.clone(), language, "/patto".to_owned(), page).await
                }),
            )
            .route(
                &at("/documenti/{slug}"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        let path = format!("/documenti/{slug}");
                        let page = pages::document(&p, language, &slug);
                        pages::answer(p.clone(), language, path, page).await
                    },
                ),
            )
            .route(
                &at("/diagnosi/{slug}"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        let path = diagnosis::path(&slug);
                        let page = diagnosis::page(&p, language, &slug);
                        pages::answer(p.clone(), language, path, page).await
                    },
                ),
            )
            .route(
                &at("/consultazioni/{slug}"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        consultation::form(p, language, slug, None).await
                    },
                )
                .post(
                    move |State(p): State<Arc<Portal>>,
                          Path(slug): Path<String>,
                          peer: consultation::Peer,
                          headers: HeaderMap,
                          Form(fields): Form<Vec<(String, String)>>| async move {
                        let peer = consultation::peer(peer);
                        consultation::submit(p, language, slug, None, peer, headers, fields).await
                    },
                ),
            )
            .route(
                &at("/consultazioni/{slug}/grazie"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        consultation::thanks(p, language, format!("/consultazioni/{slug}/grazie"))
                            .await
                    },
                ),
            )
            .route(
                &at("/consultazioni/{slug}/risultati"),
                get(
                    move |State(p): State<Arc<Portal>>, Path(slug): Path<String>| async move {
                        consultation::results_answer(p, language, slug).await
                    },
                ),
            )
            .route(
                &at("/consultazioni/{slug}/{token}"),
                get(
                    move |State(p): State<Arc<Portal>>,
                          Path((slug, token)): Path<(String, String)>| async move {
                        consultation::form(p, language, slug, Some(token)).await
                    },
                )
                .post(
                    move |State(p): State<Arc<Portal>>,
                          Path((slug, token)): Path<(String, String)>,
                          peer: consultation::Peer,
                          headers: HeaderMap,
                          Form(fields): Form<Vec<(String, String)>>| async move {
                        let peer = consultation::peer(peer);
                        consultation::submit(p, language, slug, Some(token), peer, headers, fields)
                            .await
                    },
                ),
            )
            .route(
                &at("/consultazioni/{slug}/{token}/grazie"),
                get(
                    move |State(p): State<Arc<Portal>>,
                          Path((slug, token)): Path<(String, String)>| async move {
                        let path = format!("/consultazioni/{slug}/{token}/grazie");
                        consultation::thanks(p, language, path).await
                    },
                ),
            )
            .route(
                &at("/dati"),
                get(move |State(p): State<Arc<Portal>>| async move {
                    let page = pages::open_data(&p, language);
                    pages::answer(p.clone(), language, "/dati".to_owned(), page).await
                }),
            );
    for (path, which) in TextPage::ALL {
        router = router.route(
            &at(path),
            get(move |State(p): State<Arc<Portal>>| async move {
                let page = pages::text_page(&p, language, which, path);
                pages::answer(p.clone(), language, path.to_owned(), async { Ok(page) }).await
            }),
        );
    }
    router
}

/// The language of an address: English under `/en`.
fn language_of(uri: &Uri) -> (Language, String) {
    let path = uri.path();
    match path.strip_prefix("/en") {
        Some("") => (Language::En, "/".to_owned()),
        Some(rest) if rest.starts_with('/') => (Language::En, rest.to_owned()),
        Some(_) | None => (Language::It, path.to_owned()),
    }
}

/// Any other address: the 404 page in the address's language.
async fn not_found(State(portal): State<Arc<Portal>>, uri: Uri) -> Response {
    let (language, path) = language_of(&uri);
    portal.failure(language, &path, PortalError::NotFound)
}

/// `/dati/{file}`: a dataset in CSV or JSON, or the catalogue.
async fn data_file(
    State(portal): State<Arc<Portal>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    use opendata::Format;
    let answer = match file.as_str() {
        "indicatori.csv" => opendata::indicators(&portal, Format::Csv).await,
        "indicatori.json" => opendata::indicators(&portal, Format::Json).await,
        "impegni.csv" => opendata::commitments(&portal, Format::Csv).await,
        "impegni.json" => opendata::commitments(&portal, Format::Json).await,
        "catalogo.jsonld" => opendata::catalogue(&portal, &headers).await,
        _ => Err(PortalError::NotFound),
    };
    answer.unwrap_or_else(|error| portal.failure(Language::It, &format!("/dati/{file}"), error))
}

async fn feed(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Response {
    opendata::feed(&portal, &headers)
        .await
        .unwrap_or_else(|error| portal.failure(Language::It, "/feed.atom", error))
}

async fn sitemap(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Response {
    opendata::sitemap(&portal, &headers)
        .await
        .unwrap_or_else(|error| portal.failure(Language::It, "/sitemap.xml", error))
}

async fn robots(headers: HeaderMap) -> Response {
    opendata::robots(&headers)
}

/// Adds the headers every portal answer carries; pages are revalidated on each visit
/// (assets set their own year-long cache).
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A page may ask for a looser policy: the consultation's forms need `same-origin`,
    // since under `no-referrer` browsers send `Origin: null` with a form post, which
    // cannot be told from a post made by another site.
    if !headers.contains_key(REFERRER_POLICY) {
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_addresses_are_recognised() {
        let uri: Uri = "/en/comuni/nowhere".parse().unwrap();
        assert_eq!(
            language_of(&uri),
            (Language::En, "/comuni/nowhere".to_owned())
        );
        let uri: Uri = "/entrata".parse().unwrap();
        assert_eq!(language_of(&uri), (Language::It, "/entrata".to_owned()));
        let uri: Uri = "/en".parse().unwrap();
        assert_eq!(language_of(&uri), (Language::En, "/".to_owned()));
    }
}
