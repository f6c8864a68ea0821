//! The web UI built from `ui/` (the admin console and the browser guest
//! page), served from the binary.
//!
//! Release builds embed `ui/dist`; debug builds read it from disk when
//! asked, so a UI rebuild shows without recompiling the server. A server
//! built before the UI answers with a sentence saying how to build it
//! rather than failing to compile.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist/"]
#[allow_missing = true]
struct Ui;

/// `/admin` and `/admin/setup`: the admin console's page.
pub(crate) async fn admin_page() -> Response {
    file("admin.html", "no-cache")
}

/// The browser guest page's HTML (`ui/dist/guest.html`), which the join
/// page fills in; `None` when the UI is not built into this server.
pub(crate) fn guest_template() -> Option<String> {
    let file = Ui::get("guest.html")?;
    String::from_utf8(file.data.into_owned()).ok()
}

/// `/assets/{file}`: Vite's hashed bundles, cacheable for good.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    file(
        &format!("assets/{name}"),
        "public, max-age=31536000, immutable",
    )
}

fn file(path: &str, cache: &'static str) -> Response {
    match Ui::get(path) {
        Some(content) => (
            [
                (header::CONTENT_TYPE, content.metadata.mimetype().to_string()),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
            content.data.into_owned(),
        )
            .into_response(),
        None if path.ends_with(".html") => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The web UI is not built into this server. Build it with `(cd ui && npm ci && npx vite build)` \
             and rebuild the server; ./run.sh does both.\n",
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not found.\n").into_response(),
    }
}
