//! The three roles of an MSSP account.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Admin,
    SubAdmin,
}

impl Role {
    /// The value stored in the database and sent in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::SubAdmin => "sub_admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "super_admin" => Some(Role::SuperAdmin),
            "admin" => Some(Role::Admin),
            "sub_admin" => Some(Role::SubAdmin),
            _ => None,
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Super admin",
            Role::Admin => "Admin",
            Role::SubAdmin => "Sub-admin",
        }
    }

    pub fn is_super_admin(self) -> bool {
        self == Role::SuperAdmin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_stored_name() {
        for role in [Role::SuperAdmin, Role::Admin, Role::SubAdmin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("SUPER_ADMIN"), None);
    }
}
