//! The built-in `profile` method: the identity's traits as a settings form, generated from the
//! identity schema. Changing a trait that is a login identifier or an address needs a
//! privileged session; other traits do not.

use super::Step;
use super::method::{FieldMessage, Method, Outcome, SettingsContext, SettingsMethod};
use super::traits_form::{trait_nodes, violation_message};
use crate::error::CoreError;
use crate::identity::IdentityChange;
use async_trait::async_trait;
use clavis_types::message;
use clavis_types::ui::{InputType, Node, NodeGroup};
use serde_json::{Value, json};

/// The `profile` method.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileMethod;

impl ProfileMethod {
    /// The method id and the `method` value of its submissions.
    pub const ID: &'static str = "profile";

    fn nodes(ctx: &SettingsContext<'_>, traits: &Value) -> Vec<Node> {
        let mut nodes = trait_nodes(ctx.schema, Some(traits));
        for node in &mut nodes {
            node.group = NodeGroup::Profile;
        }
        nodes.push(
            Node::input(NodeGroup::Profile, "method", InputType::Submit)
                .with_value(json!(Self::ID))
                .label(message::label_save()),
        );
        nodes
    }
}

impl Method for ProfileMethod {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn group(&self) -> NodeGroup {
        NodeGroup::Profile
    }
}

#[async_trait]
impl SettingsMethod for ProfileMethod {
    async fn settings_nodes(
        &self,
        ctx: &SettingsContext<'_>,
        _step: &mut Step<'_>,
    ) -> Result<Vec<Node>, CoreError> {
        Ok(Self::nodes(ctx, &ctx.caller.identity.traits))
    }

    /// Only changes to what identifies or reaches the identity (login identifiers, verifiable
    /// and recovery addresses) are privileged.
    fn needs_privileged_session(&self, ctx: &SettingsContext<'_>, body: &Value) -> bool {
        let Some(traits) = body.get("traits").filter(|t| t.is_object()) else {
            return false;
        };
        let Ok(proposed) = ctx.schema.validate_traits(traits) else {
            return false;
        };
        match ctx.schema.validate_traits(&ctx.caller.identity.traits) {
            Ok(current) => current != proposed,
            Err(_) => true,
        }
    }

    async fn update(
        &self,
        ctx: &SettingsContext<'_>,
        _step: &mut Step<'_>,
        body: &Value,
    ) -> Result<Outcome, CoreError> {
        let Some(traits) = body.get("traits").filter(|t| t.is_object()) else {
            return Ok(Outcome::Rejected {
                messages: vec![FieldMessage::global(message::required("traits"))],
            });
        };
        match ctx.schema.validate_traits(traits) {
            Ok(_) => Ok(Outcome::Updated {
                change: IdentityChange {
                    traits: Some(traits.clone()),
                    ..IdentityChange::default()
                },
                completed: None,
            }),
            Err(violations) => Ok(Outcome::Continue {
                nodes: Self::nodes(ctx, traits),
                messages: violations.iter().map(violation_message).collect(),
            }),
        }
    }
}
