//! `tenants.*`: GoClaw's tenant methods and params (`id`, `tenant_id`, `user_id`, `role`,
//! `name`, `slug`, `status`, `settings`), answered by the operations of `crate::tenants`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Ctx;
use super::params::parse;
use crate::tenants::{self, AddUser, Refusal, Update};
use crate::ws::frames::ErrorShape;

impl From<Refusal> for ErrorShape {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => ErrorShape::invalid(message),
            Refusal::NotFound(message) => ErrorShape::not_found(message),
            Refusal::Denied(message) => ErrorShape::unauthorized(message),
            Refusal::Store(error) => super::sessions::store_error(&error),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ById {
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ByTenant {
    tenant_id: String,
    user_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateParams {
    name: String,
    slug: String,
    settings: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateParams {
    id: String,
    #[serde(flatten)]
    change: Update,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddParams {
    tenant_id: String,
    #[serde(flatten)]
    user: AddUser,
}

pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    Ok(tenants::list(ctx.state, ctx.principal).await?)
}

pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ById = parse(params)?;
    Ok(tenants::get(ctx.state, ctx.principal, &params.id).await?)
}

pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let p: CreateParams = parse(params)?;
    let tenant = tenants::create(ctx.state, ctx.principal, &p.name, &p.slug, p.settings).await?;
    Ok(tenants::tenant_view(&tenant))
}

pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let p: UpdateParams = parse(params)?;
    Ok(tenants::update(ctx.state, ctx.principal, &p.id, p.change).await?)
}

pub async fn users_list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let p: ByTenant = parse(params)?;
    Ok(tenants::users(ctx.state, ctx.principal, &p.tenant_id).await?)
}

pub async fn users_add(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let p: AddParams = parse(params)?;
    Ok(tenants::add_user(ctx.state, ctx.principal, &p.tenant_id, p.user).await?)
}

pub async fn users_remove(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let p: ByTenant = parse(params)?;
    if p.user_id.trim().is_empty() {
        return Err(ErrorShape::invalid("user_id is required"));
    }
    Ok(tenants::remove_user(ctx.state, ctx.principal, &p.tenant_id, &p.user_id).await?)
}

pub async fn mine(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    Ok(tenants::mine(ctx.state, ctx.principal).await?)
}
