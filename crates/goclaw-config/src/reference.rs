//! [`reference_markdown`]: the configuration reference (`docs/config.md`),
//! generated from the JSON schema of [`Config`] (field `///` docs become
//! descriptions, `Default` impls become defaults) and from
//! [`crate::ENV_VARS`]. Output is deterministic: properties come out sorted.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::secrets::SECRET_SCHEMA_NAME;
use crate::{Config, ENV_VARS, LIVE_KEYS, SYSTEM_CONFIG_KEYS};

/// Renders the Markdown reference of every config key and environment
/// variable.
pub fn reference_markdown() -> String {
    let schema = Config::json_schema();
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut writer = Reference {
        defs,
        documented: BTreeMap::new(),
        sections: Vec::new(),
    };
    writer.section("", &schema, &mut Vec::new());

    let mut out = String::new();
    out.push_str(HEADER);
    for section in &writer.sections {
        section.render(&mut out);
    }
    render_live(&mut out);
    render_env(&mut out);
    out
}

const HEADER: &str = "# Configuration reference

<!-- Generated from crates/goclaw-config; do not edit by hand.
     Regenerate with: GOCLAW_UPDATE_DOCS=1 cargo test -p goclaw-config docs_config_md -->

goclaw reads `config.json` from `--config`, else `$GOCLAW_CONFIG`, else `./config.json`.
The file is JSON5: comments, trailing commas, unquoted keys and single-quoted strings
are allowed. A missing file is fine unless `--config` named it: defaults and the
environment apply.

Precedence: built-in defaults, then the file, then the environment (the environment
wins), except `GOCLAW_PROVIDER` and `GOCLAW_MODEL`, which only fill values the file
leaves empty. Key names mix snake_case and camelCase exactly as listed below.

- An unknown key is reported as a warning naming its path (e.g. `gateway.rate_limt_rpm`).
- A value of the wrong type, an unknown enum value or a value out of range is an error
  naming its path (e.g. `config.json: gateway.port: invalid type: string \"abc\", expected u16`).
- The database DSNs and the encryption key are never read from the file: a file that
  contains `database.postgres_dsn`, `database.dsn`, `database.redis_dsn` or an
  `encryption_key` is refused. Other `database.*` keys are ignored with a warning; the
  database is configured only through the environment (see the table at the end).
- Fields of type *secret string* are masked as `abcd****wxyz` by `goclaw config show`
  and never logged. Prefer the environment variables for them.

";

struct Section {
    path: String,
    description: String,
    rows: Vec<[String; 4]>,
}

impl Section {
    fn render(&self, out: &mut String) {
        if self.path.is_empty() {
            out.push_str("## Top level\n\n");
        } else {
            let _ = writeln!(out, "## `{}`\n", self.path);
        }
        if !self.description.is_empty() {
            let _ = writeln!(out, "{}\n", self.description);
        }
        out.push_str("| Key | Type | Default | Description |\n|---|---|---|---|\n");
        for [key, ty, default, description] in &self.rows {
            let _ = writeln!(out, "| `{key}` | {ty} | {default} | {description} |");
        }
        out.push('\n');
    }
}

struct Reference<'a> {
    defs: &'a Map<String, Value>,
    /// Struct definitions already given a section, with its path.
    documented: BTreeMap<String, String>,
    sections: Vec<Section>,
}

/// What a property holds, as far as the reference cares.
enum Shape<'a> {
    /// A struct, with its definition name and schema.
    Object(&'a str, &'a Value),
    /// A map of structs.
    MapOf(&'a str, &'a Value),
    /// A list of structs.
    ListOf(&'a str, &'a Value),
    /// Anything rendered on one row.
    Leaf,
}

impl<'a> Reference<'a> {
    fn section(&mut self, path: &str, schema: &'a Value, stack: &mut Vec<String>) {
        let mut rows = Vec::new();
        let mut nested = Vec::new();
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, prop) in properties.into_iter().flatten() {
            let full = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let description = text(prop).unwrap_or_default();
            let (ty, default, child) = match self.shape(prop) {
                Shape::Object(name, def) => {
                    let ty = self.object_type(name, &full, "object", stack);
                    (ty, "—".to_owned(), Some((full.clone(), name, def)))
                }
                Shape::MapOf(name, def) => {
                    let child_path = format!("{full}.<name>");
                    let ty = self.object_type(name, &child_path, "map of objects", stack);
                    (ty, default_cell(prop), Some((child_path, name, def)))
                }
                Shape::ListOf(name, def) => {
                    let child_path = format!("{full}[]");
                    let ty = self.object_type(name, &child_path, "list of objects", stack);
                    (ty, default_cell(prop), Some((child_path, name, def)))
                }
                Shape::Leaf => (self.leaf_type(prop), default_cell(prop), None),
            };
            let description = match self.enum_values(prop) {
                Some(values) if values.iter().any(|(_, doc)| !doc.is_empty()) => {
                    let listed: Vec<String> = values
                        .iter()
                        .map(|(value, doc)| format!("`{value}`: {}", doc.trim_end_matches('.')))
                        .collect();
                    format!("{description} Values: {}.", listed.join("; "))
                }
                _ => description,
            };
            rows.push([full, ty, default, cell(&description)]);
            if let Some((child_path, name, def)) = child {
                if !self.documented.contains_key(name) && !stack.iter().any(|s| s == name) {
                    self.documented.insert(name.to_owned(), child_path.clone());
                    nested.push((child_path, name, def));
                }
            }
        }
        self.sections.push(Section {
            path: path.to_owned(),
            description: text(schema).unwrap_or_default(),
            rows,
        });
        for (child_path, name, def) in nested {
            stack.push(name.to_owned());
            self.section(&child_path, def, stack);
            stack.pop();
        }
    }

    /// "object, see `path`", pointing at the section that documents it.
    fn object_type(&self, name: &str, path: &str, kind: &str, stack: &[String]) -> String {
        match self.documented.get(name) {
            Some(existing) if existing != path => format!("{kind} (keys as in `{existing}`)"),
            _ if stack.iter().any(|s| s == name) => format!("{kind} (same keys as its parent)"),
            _ => format!("{kind}, see `{path}`"),
        }
    }

    fn shape(&self, prop: &'a Value) -> Shape<'a> {
        let prop = non_null(prop);
        if let Some((name, def)) = self.struct_ref(prop) {
            return Shape::Object(name, def);
        }
        if let Some((name, def)) = prop
            .get("additionalProperties")
            .and_then(|a| self.struct_ref(a))
        {
            return Shape::MapOf(name, def);
        }
        if let Some((name, def)) = prop.get("items").and_then(|i| self.struct_ref(i)) {
            return Shape::ListOf(name, def);
        }
        Shape::Leaf
    }

    /// The definition a schema refers to, if it is a struct.
    fn struct_ref(&self, schema: &'a Value) -> Option<(&'a str, &'a Value)> {
        let (name, def) = self.reference(non_null(schema))?;
        def.get("properties").is_some().then_some((name, def))
    }

    fn reference(&self, schema: &'a Value) -> Option<(&'a str, &'a Value)> {
        let name = schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
        Some((name, self.defs.get(name)?))
    }

    fn enum_values(&self, prop: &'a Value) -> Option<Vec<(String, String)>> {
        let schema = non_null(prop);
        let schema = self.reference(schema).map_or(schema, |(_, def)| def);
        if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
            let values = variants
                .iter()
                .map(|v| {
                    let value = v.get("const").and_then(Value::as_str)?;
                    Some((value.to_owned(), text(v).unwrap_or_default()))
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(values);
        }
        let values = schema.get("enum").and_then(Value::as_array)?;
        Some(
            values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| (v.to_owned(), String::new()))
                .collect(),
        )
    }

    fn leaf_type(&self, prop: &'a Value) -> String {
        let mut schema = non_null(prop);
        if let Some((name, def)) = self.reference(schema) {
            if name == SECRET_SCHEMA_NAME {
                return "secret string".to_owned();
            }
            schema = def;
        }
        if let Some(values) = self.enum_values(prop) {
            let names: Vec<String> = values.iter().map(|(v, _)| format!("`{v}`")).collect();
            return names.join(" \\| ");
        }
        if let Some(items) = schema.get("items") {
            return format!("list of {}", self.leaf_type(items));
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => return "map of any JSON".to_owned(),
            Some(values @ Value::Object(_)) => return format!("map of {}", self.leaf_type(values)),
            _ => {}
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            _ => Vec::new(),
        };
        match types.first() {
            Some(t) => (*t).to_owned(),
            None => "any JSON".to_owned(),
        }
    }
}

/// Strips the `null` branch of an optional value's schema.
fn non_null(schema: &Value) -> &Value {
    let Some(branches) = schema.get("anyOf").and_then(Value::as_array) else {
        return schema;
    };
    let mut non_null = branches
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"));
    match (non_null.next(), non_null.next()) {
        (Some(only), None) => only,
        _ => schema,
    }
}

/// A schema's description as one line.
fn text(schema: &Value) -> Option<String> {
    let description = schema.get("description")?.as_str()?;
    Some(description.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn default_cell(prop: &Value) -> String {
    match prop.get("default") {
        None | Some(Value::Null) => "—".to_owned(),
        Some(value) => format!("`{}`", cell(&value.to_string())),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn render_env(out: &mut String) {
    out.push_str("## Environment variables\n\n");
    out.push_str(
        "An empty value counts as unset. Booleans accept `1/true/yes/on` and `0/false/no/off`; \
         a value that cannot be parsed is an error naming the variable.\n\n",
    );
    out.push_str("| Variable | Sets | Default |\n|---|---|---|\n");
    for var in ENV_VARS {
        let default = if var.default.is_empty() {
            "—"
        } else {
            var.default
        };
        let _ = writeln!(out, "| `{}` | {} | {} |", var.name, cell(var.sets), default);
    }
}

fn render_live(out: &mut String) {
    out.push_str("## Changing the configuration while running\n\n");
    out.push_str(
        "`config.apply` (the whole file) and `config.patch` (merged over it: objects key by key, \
         other values replace) take JSON5 text and the `hash` of the last `config.get`; a stale \
         hash, bad JSON5, an unknown key or an invalid value is refused and nothing is written. \
         The file is written atomically with its permissions kept (0600 for a new file). \
         Secrets are shown as `\"***\"`; sending `\"***\"` back keeps the stored value, and a \
         secret that comes from the environment is never written to the file. The environment \
         still wins over the file, as at start-up. Each change is logged as `config.applied` \
         with the changed key paths (never values).\n\n",
    );
    out.push_str(
        "These keys apply at once; a change to any other key is saved and takes effect at the \
         next start (the answer says `restart: true`).\n\n",
    );
    out.push_str("| Key | Applies live because |\n|---|---|\n");
    for (key, why) in LIVE_KEYS {
        let _ = writeln!(out, "| `{key}` | {} |", cell(why));
    }
    out.push_str(
        "\nAn accepted change also writes, for the master tenant (whose values every tenant \
         reads unless it has its own), the `system_configs` settings GoClaw mirrors from the \
         file; empty strings and zero numbers are left out:\n\n",
    );
    out.push_str("| `system_configs` key | Config key |\n|---|---|\n");
    for (key, path) in SYSTEM_CONFIG_KEYS {
        let _ = writeln!(out, "| `{key}` | `{path}` |");
    }
    out.push('\n');
}
