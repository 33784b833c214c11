//! Identity schemas: Kratos-compatible JSON Schemas (with the `ory.sh/kratos` extension) that
//! shape an identity's traits.
//!
//! Every schema is checked against Kratos' identity meta-schema when it is loaded, and compiled
//! offline: a `$ref` to anything outside the schema fails at load time and is never fetched.

use super::extension::{TraitsExtract, extract};
use serde_json::{Value, json};

/// The id of the schema used when the configuration names none.
pub const DEFAULT_SCHEMA_ID: &str = "default";

/// The identity schema shipped with Clavis: an e-mail address that is the password identifier,
/// a verifiable and a recovery address, and an optional first and last name.
pub const DEFAULT_SCHEMA: &str = include_str!("default.schema.json");

const META_SCHEMA: &str = include_str!("meta/kratos-identity-meta.schema.json");
const EXTENSION_SCHEMA: &str = include_str!("meta/kratos-identity-extension.schema.json");

/// Why a set of identity schemas cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// The document is not an identity schema (fails the meta-schema) or does not compile.
    #[error("identity schema `{id}` is invalid: {problems}")]
    Invalid { id: String, problems: String },
    /// Two schemas share an id.
    #[error("identity schema id `{0}` is configured twice")]
    Duplicate(String),
    /// `identity.default_schema_id` names a schema that is not configured.
    #[error("identity.default_schema_id is `{0}`, but no identity schema has that id")]
    UnknownDefault(String),
}

/// Where the traits break the schema, as a JSON pointer into the identity (`/traits/email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitViolation {
    pub pointer: String,
    pub message: String,
    /// For a missing required property: its name (the violation is reported on the parent).
    pub missing_property: Option<String>,
}

/// One compiled identity schema.
pub struct IdentitySchema {
    id: String,
    raw: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for IdentitySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySchema")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl IdentitySchema {
    /// The schema's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The schema document as configured.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Checks `traits` and, when they pass, derives identifiers and addresses from them.
    pub fn validate_traits(&self, traits: &Value) -> Result<TraitsExtract, Vec<TraitViolation>> {
        let document = json!({ "traits": traits });
        let violations: Vec<TraitViolation> = self
            .validator
            .iter_errors(&document)
            .map(|error| TraitViolation {
                pointer: error.instance_path().as_str().to_owned(),
                message: error.to_string(),
                missing_property: match error.kind() {
                    jsonschema::error::ValidationErrorKind::Required { property } => {
                        property.as_str().map(str::to_owned)
                    }
                    _ => None,
                },
            })
            .collect();
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(extract(&self.raw, traits))
    }
}

/// All configured identity schemas, in configuration order, and which one is the default.
#[derive(Debug)]
pub struct SchemaRegistry {
    default_id: String,
    schemas: Vec<IdentitySchema>,
}

impl SchemaRegistry {
    /// Checks and compiles `schemas` (id, document) and picks `default_id` as the default.
    pub fn new(default_id: &str, schemas: Vec<(String, Value)>) -> Result<Self, SchemaError> {
        let meta = MetaSchema::new()?;
        let mut compiled: Vec<IdentitySchema> = Vec::with_capacity(schemas.len());
        for (id, raw) in schemas {
            if compiled.iter().any(|s| s.id == id) {
                return Err(SchemaError::Duplicate(id));
            }
            meta.check(&id, &raw)?;
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .offline()
                .build(&raw)
                .map_err(|e| SchemaError::Invalid {
                    id: id.clone(),
                    problems: e.to_string(),
                })?;
            compiled.push(IdentitySchema { id, raw, validator });
        }
        if !compiled.iter().any(|s| s.id == default_id) {
            return Err(SchemaError::UnknownDefault(default_id.to_owned()));
        }
        Ok(Self {
            default_id: default_id.to_owned(),
            schemas: compiled,
        })
    }

    /// The registry holding only the shipped default schema.
    pub fn builtin() -> Result<Self, SchemaError> {
        let raw: Value =
            serde_json::from_str(DEFAULT_SCHEMA).map_err(|e| SchemaError::Invalid {
                id: DEFAULT_SCHEMA_ID.to_owned(),
                problems: e.to_string(),
            })?;
        Self::new(DEFAULT_SCHEMA_ID, vec![(DEFAULT_SCHEMA_ID.to_owned(), raw)])
    }

    /// The default schema's id.
    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    /// The schema with this id.
    pub fn get(&self, id: &str) -> Option<&IdentitySchema> {
        self.schemas.iter().find(|s| s.id == id)
    }

    /// Every schema, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &IdentitySchema> {
        self.schemas.iter()
    }
}

struct MetaSchema {
    validator: jsonschema::Validator,
}

impl MetaSchema {
    fn new() -> Result<Self, SchemaError> {
        let invalid = |problems: String| SchemaError::Invalid {
            id: "ory://identity-meta".to_owned(),
            problems,
        };
        let meta: Value = serde_json::from_str(META_SCHEMA).map_err(|e| invalid(e.to_string()))?;
        let extension: Value =
            serde_json::from_str(EXTENSION_SCHEMA).map_err(|e| invalid(e.to_string()))?;
        let registry = jsonschema::Registry::new()
            .add("ory://identity-extension", extension)
            .and_then(|builder| builder.prepare())
            .map_err(|e| invalid(e.to_string()))?;
        let validator = jsonschema::draft7::options()
            .with_registry(&registry)
            .offline()
            .build(&meta)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { validator })
    }

    fn check(&self, id: &str, raw: &Value) -> Result<(), SchemaError> {
        let problems: Vec<String> = self
            .validator
            .iter_errors(raw)
            .map(|e| {
                let at = e.instance_path().as_str().to_owned();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} (at {at})")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SchemaError::Invalid {
                id: id.to_owned(),
                problems: problems.join("; "),
            })
        }
    }
}
