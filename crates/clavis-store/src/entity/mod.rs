//! sea-orm entities: one module per table, rows exactly as stored. Nothing outside
//! `clavis-store` sees these types.

pub mod client_grants;
pub mod courier_messages;
pub mod device_authorizations;
pub mod identities;
pub mod identity_credential_identifiers;
pub mod identity_credential_uses;
pub mod identity_credentials;
pub mod identity_recovery_addresses;
pub mod identity_verifiable_addresses;
pub mod rate_limit_hits;
pub mod selfservice_errors;
pub mod selfservice_flows;
pub mod session_devices;
pub mod session_token_exchanges;
pub mod sessions;
