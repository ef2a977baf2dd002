//! The files the pages load, built into the binary: the vendored Bootstrap Italia (CSS,
//! fonts, icons and their licences) and the portal's own stylesheet. Their paths carry
//! the version, so that they can be cached for a year: a new version has new paths.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where the vendored Bootstrap Italia is served from.
pub const BOOTSTRAP_ITALIA: &str = "/assets/bootstrap-italia-2.18.3";

/// Where the portal's own files are served from.
pub const PORTAL_ASSETS: &str = concat!("/assets/patto-portal-", env!("CARGO_PKG_VERSION"));

/// A built-in file: its path under `/assets/` and its bytes.
type Asset = (&'static str, &'static [u8]);

macro_rules! asset {
    ($path:literal) => {
        (
            concat!("bootstrap-italia-2.18.3/", $path),
            include_bytes!(concat!("../assets/vendor/bootstrap-italia/", $path)).as_slice(),
        )
    };
}

/// Every file served under `/assets/`.
const ASSETS: &[Asset] = &[
    asset!("LICENSE"),
    asset!("css/bootstrap-italia.min.css"),
    asset!("css/fonts.css"),
    asset!("fonts/Lora/OFL.txt"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-700.woff"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-700.woff2"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-700italic.woff"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-700italic.woff2"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-italic.woff"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-italic.woff2"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-regular.woff"),
    asset!("fonts/Lora/lora-v20-latin-ext_latin-regular.woff2"),
    asset!("fonts/Roboto_Mono/LICENSE.txt"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-700.woff"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-700.woff2"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-700italic.woff"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-700italic.woff2"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-italic.woff"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-italic.woff2"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff"),
    asset!("fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff2"),
    asset!("fonts/Titillium_Web/OFL.txt"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300italic.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300italic.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600italic.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600italic.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700italic.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700italic.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-italic.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-italic.woff2"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff"),
    asset!("fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2"),
    asset!("svg/sprites.svg"),
    (
        concat!("patto-portal-", env!("CARGO_PKG_VERSION"), "/portal.css"),
        include_bytes!("../assets/portal.css").as_slice(),
    ),
];

/// The content type of a file, from its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some(_) | None => "text/plain; charset=utf-8",
    }
}

/// `/assets/{*path}`: a built-in file with a year-long cache, or 404.
pub async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _)| *name == path) {
        Some((name, bytes)) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(content_type(name))),
                (
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheets_and_fonts_are_built_in_under_their_versioned_paths() {
        let css = format!("{}/css/bootstrap-italia.min.css", BOOTSTRAP_ITALIA);
        let font = "bootstrap-italia-2.18.3/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2";
        let names: Vec<&str> = ASSETS.iter().map(|(name, _)| *name).collect();
        assert!(names.contains(&css.trim_start_matches("/assets/")));
        assert!(names.contains(&font));
        assert_eq!(content_type(font), "font/woff2");
        assert!(ASSETS.iter().all(|(_, bytes)| !bytes.is_empty()));
    }
}
