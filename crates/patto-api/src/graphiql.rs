//! GraphiQL, served whole by this server: the page and its scripts and styles are the
//! vendored files of `assets/graphiql/` (see its README for their origin and licences),
//! built into the binary. The page's Content-Security-Policy names no other host and
//! allows no inline script or style.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The content security policy of the GraphiQL page: everything from this server, and
/// connections (HTTP and WebSocket) to this server only. Fonts and icons are `data:`
/// URLs inside the vendored stylesheet.
pub const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Where the assets are served.
pub(crate) const ASSETS_PATH: &str = "/graphql/assets/{file}";

const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// The assets by file name, with their content types.
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "patto-graphiql.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/patto-graphiql.js"),
    ),
    (
        "patto-graphiql.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/patto-graphiql.css"),
    ),
];

/// The GraphiQL page.
pub(crate) fn page() -> Response {
    let mut response = Html(PAGE).into_response();
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(GRAPHIQL_CSP),
    );
    response
}

/// One of the page's assets. They change only with the binary, so a browser may keep
/// them for an hour.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("no GraphiQL asset is called '{file}'\n"),
        )
            .into_response(),
    }
}
