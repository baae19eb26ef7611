//! The web dashboard: a page and its scripts and styles, compiled into the binary from
//! `crates/goclaw-gateway/dashboard/`, served at `/` (to browsers, which ask for HTML) and
//! `/ui/<file>`. The files are the source itself — plain ES modules and CSS, no build step —
//! and every answer carries a Content-Security-Policy that lets the page reach only the
//! gateway it came from.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::routes::AppState;

/// The policy every dashboard answer carries: scripts, styles, images and connections from
/// the gateway itself only; no inline script or style, no frames, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One file of the dashboard.
pub struct Asset {
    /// Its name under `/ui/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../dashboard/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the dashboard; `index.html` is the page itself.
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("client.js", JS),
    asset!("dom.js", JS),
    asset!("pages/overview.js", JS),
    asset!("pages/chat.js", JS),
    asset!("pages/agents.js", JS),
    asset!("pages/sessions.js", JS),
    asset!("pages/approvals.js", JS),
    asset!("pages/api_keys.js", JS),
    asset!("pages/providers.js", JS),
    asset!("pages/traces.js", JS),
    asset!("pages/channels.js", JS),
    asset!("pages/memory.js", JS),
    asset!("pages/schedules.js", JS),
    asset!("pages/config.js", JS),
];

/// The dashboard's files under `/ui/`.
pub fn router() -> Router<AppState> {
    Router::new().route("/ui/{*path}", get(file))
}

/// Whether a request to `/` comes from a browser, which names HTML among what it accepts;
/// other clients keep getting the JSON service index.
pub fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The dashboard's page.
pub fn page() -> Response {
    serve("index.html")
}

/// A script, style or image of the dashboard.
#[utoipa::path(
    get,
    path = "/ui/{path}",
    tag = "system",
    operation_id = "dashboard_asset",
    params(("path" = String, Path, description = "A dashboard file, e.g. `app.js`")),
    security(()),
    responses(
        (status = 200, description = "The file",
            content(
                (String = "text/javascript"),
                (String = "text/css"),
                (String = "text/html"),
                (String = "image/svg+xml"),
            )),
        (status = 404, description = "No such file", body = crate::http::ErrorResponse),
    )
)]
pub async fn file(uri: Uri) -> Response {
    serve(uri.path().strip_prefix("/ui/").unwrap_or_default())
}

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return crate::http::ApiError::not_found(format!("no dashboard file {name:?}"))
            .into_response();
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The files change with the binary: revalidate rather than keep a stale script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_with_the_policy() {
        for asset in ASSETS {
            let response = serve(asset.name);
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            assert_eq!(
                response.headers()[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
        }
        assert_eq!(serve("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(serve("").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn no_file_names_another_host() {
        for asset in ASSETS {
            for scheme in ["http://", "https://", "//cdn", "ws://", "wss://"] {
                let found = asset
                    .body
                    .match_indices(scheme)
                    .map(|(at, _)| &asset.body[at..(at + 60).min(asset.body.len())])
                    // The SVG namespace is a name, never fetched.
                    .find(|s| !s.starts_with("http://www.w3.org/2000/svg"));
                assert!(found.is_none(), "{} names {:?}", asset.name, found);
            }
        }
    }

    #[test]
    fn browsers_get_the_page_and_other_clients_the_index() {
        let mut headers = HeaderMap::new();
        assert!(!wants_page(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_page(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(wants_page(&headers));
    }
}
