//! The API's documentation, public like `/health`: `GET /v1/openapi.json` (the generated
//! OpenAPI document) and Swagger UI under `/docs/`, served from the assets compiled into the
//! binary by `utoipa-swagger-ui` (its `vendored` feature), so the page loads nothing from the
//! internet.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa_swagger_ui::Config;

use super::error::ApiError;
use super::openapi;
use super::schemas::ErrorResponse;
use crate::routes::AppState;

/// Where the document is served, and what Swagger UI loads.
pub const SPEC_PATH: &str = "/v1/openapi.json";

/// Swagger UI's settings: our document, and no online validator badge (which would fetch from
/// validator.swagger.io).
static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new([SPEC_PATH])
            .validator_url("none")
            .persist_authorization(false),
    )
});

/// The documentation routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/openapi.json", get(spec))
        .route("/docs", get(redirect))
        .route("/docs/", get(index))
        .route("/docs/{*path}", get(asset))
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "docs",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn spec(State(state): State<AppState>) -> Response {
    match openapi::document_json(&state.version) {
        Ok(document) => axum::Json(document).into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// Swagger UI lives at `/docs/`, whose relative asset links need the trailing slash.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "docs",
    operation_id = "docs_redirect",
    security(()),
    responses((status = 303, description = "To `/docs/`", headers(("Location" = String, description = "`/docs/`"))))
)]
pub async fn redirect() -> Redirect {
    Redirect::to("/docs/")
}

/// Swagger UI's page.
#[utoipa::path(
    get,
    path = "/docs/",
    tag = "docs",
    operation_id = "docs",
    security(()),
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String))
)]
pub async fn index() -> Response {
    swagger_file("")
}

/// Swagger UI's scripts, styles and images.
#[utoipa::path(
    get,
    path = "/docs/{path}",
    tag = "docs",
    operation_id = "docs_asset",
    params(("path" = String, Path, description = "An asset, e.g. `swagger-ui-bundle.js`")),
    security(()),
    responses(
        (status = 200, description = "The asset",
            content(
                (String = "application/javascript"),
                (String = "text/css"),
                (String = "text/html"),
                (String = "image/png"),
                (String = "application/octet-stream"),
            )),
        (status = 404, description = "No such asset", body = ErrorResponse),
    )
)]
pub async fn asset(uri: Uri) -> Response {
    // The raw path rather than `Path<String>`, whose rejection of a bad percent-encoding would
    // be plain text: asset names need no decoding.
    swagger_file(uri.path().strip_prefix("/docs/").unwrap_or_default())
}

fn swagger_file(path: &str) -> Response {
    match utoipa_swagger_ui::serve(path, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(file)) => (
            [(header::CONTENT_TYPE, file.content_type)],
            file.bytes.into_owned(),
        )
            .into_response(),
        Ok(None) => ApiError::not_found(format!("no documentation asset {path:?}")).into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}
