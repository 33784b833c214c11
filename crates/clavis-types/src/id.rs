//! Identifier newtypes, so that an identity id can never be passed where a session id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

uuid_newtype!(
    /// The id of an identity.
    IdentityId
);
uuid_newtype!(
    /// The id of a session.
    SessionId
);
uuid_newtype!(
    /// The id of a session device record.
    DeviceId
);
uuid_newtype!(
    /// The id of a verifiable or recovery address.
    AddressId
);
uuid_newtype!(
    /// The id of a self-service flow.
    FlowId
);
