//! What a super admin may change about the admins of their account.

use super::role::Role;

/// The state of an admin that matters for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminState {
    pub role: Role,
    pub active: bool,
}

impl AdminState {
    pub fn is_active_super_admin(self) -> bool {
        self.active && self.role == Role::SuperAdmin
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditRefused {
    #[error(
        "Super admins cannot be created or promoted here. An account has its super admin from the start."
    )]
    PromotionToSuperAdmin,
    #[error(
        "This would leave the account without an active super admin. Make someone else super admin first."
    )]
    LastSuperAdmin,
}

/// Roles a super admin can give in "Add admin".
pub const ASSIGNABLE_ROLES: [Role; 2] = [Role::Admin, Role::SubAdmin];

/// Checks an edit of `before` into `after`. `other_active_super_admins` counts the account's
/// active super admins other than this admin, read under the same lock as the write.
pub fn check_edit(
    before: AdminState,
    after: AdminState,
    other_active_super_admins: i64,
) -> Result<(), EditRefused> {
    if after.role == Role::SuperAdmin && before.role != Role::SuperAdmin {
        return Err(EditRefused::PromotionToSuperAdmin);
    }
    if before.is_active_super_admin()
        && !after.is_active_super_admin()
        && other_active_super_admins == 0
    {
        return Err(EditRefused::LastSuperAdmin);
    }
    Ok(())
}

/// Checks the role of a new admin.
pub fn check_new_role(role: Role) -> Result<(), EditRefused> {
    if ASSIGNABLE_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(EditRefused::PromotionToSuperAdmin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPER: AdminState = AdminState {
        role: Role::SuperAdmin,
        active: true,
    };
    const ADMIN: AdminState = AdminState {
        role: Role::Admin,
        active: true,
    };

    #[test]
    fn nobody_becomes_super_admin_through_an_edit() {
        assert_eq!(
            check_edit(ADMIN, SUPER, 1),
            Err(EditRefused::PromotionToSuperAdmin)
        );
        let inactive_admin = AdminState {
            active: false,
            ..ADMIN
        };
        assert_eq!(
            check_edit(inactive_admin, SUPER, 1),
            Err(EditRefused::PromotionToSuperAdmin)
        );
        assert_eq!(
            check_new_role(Role::SuperAdmin),
            Err(EditRefused::PromotionToSuperAdmin)
        );
        assert_eq!(check_new_role(Role::SubAdmin), Ok(()));
    }

    #[test]
    fn the_last_active_super_admin_stays() {
        let demoted = AdminState {
            role: Role::Admin,
            active: true,
        };
        let deactivated = AdminState {
            role: Role::SuperAdmin,
            active: false,
        };
        assert_eq!(
            check_edit(SUPER, demoted, 0),
            Err(EditRefused::LastSuperAdmin)
        );
        assert_eq!(
            check_edit(SUPER, deactivated, 0),
            Err(EditRefused::LastSuperAdmin)
        );
        assert_eq!(check_edit(SUPER, demoted, 1), Ok(()));
        assert_eq!(check_edit(SUPER, deactivated, 2), Ok(()));
        // Keeping a super admin a super admin is always fine.
        assert_eq!(check_edit(SUPER, SUPER, 0), Ok(()));
    }

    #[test]
    fn ordinary_edits_pass() {
        let sub = AdminState {
            role: Role::SubAdmin,
            active: false,
        };
        assert_eq!(check_edit(ADMIN, sub, 0), Ok(()));
        assert_eq!(check_edit(sub, ADMIN, 0), Ok(()));
    }
}
