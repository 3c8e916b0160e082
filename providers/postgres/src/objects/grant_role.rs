//! `postgres_grant_role`: one membership (`GRANT grant_role TO role`), from `pg_auth_members`,
//! with the community provider's `postgresql_grant_role` arguments. Its id (and import id) is
//! `role:grant_role`. Only the memberships a refresh, import or apply names are read, in one query.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use strata_provider_sdk::{Action, Attribute as A, Block, ObjectNames, PlannedChange, ProviderError, ResourceSchema, Type, Value};

use super::{change, required, text_array, AuthorshipRow, Kind};
use crate::catalog::{query, Catalog};
use crate::order::Scope;
use crate::ddl::ident;

#[derive(Clone, Debug, PartialEq)]
pub struct GrantRole {
    /// The member.
    pub role: String,
    /// The role granted to it.
    pub grant_role: String,
    pub with_admin_option: bool,
}

impl GrantRole {
    fn from_value(value: &Value) -> Result<GrantRole, ProviderError> {
        Ok(GrantRole {
            role: required(value, "role", "postgres_grant_role")?,
            grant_role: required(value, "grant_role", "postgres_grant_role")?,
            with_admin_option: value.get_bool("with_admin_option").unwrap_or(false),
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("role", Value::from(self.role.as_str())),
            ("grant_role", Value::from(self.grant_role.as_str())),
            ("with_admin_option", Value::Bool(self.with_admin_option)),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}:{}", self.role, self.grant_role)
    }

    fn grant(&self) -> String {
        let admin = if self.with_admin_option { " WITH ADMIN OPTION" } else { "" };
        format!("GRANT {} TO {}{admin}", ident(&self.grant_role), ident(&self.role))
    }

    fn revoke(&self) -> String {
        format!("REVOKE {} FROM {}", ident(&self.grant_role), ident(&self.role))
    }

    fn plan(prior: Option<&GrantRole>, desired: &GrantRole) -> PlannedChange {
        let Some(prior) = prior else { return change(Action::Create, desired.to_value(), vec![desired.grant()]) };
        if (&prior.role, &prior.grant_role) != (&desired.role, &desired.grant_role) {
            let because = if prior.role != desired.role { "role" } else { "grant_role" };
            return PlannedChange { replace_because: vec![because.to_owned()], ..change(Action::Replace, desired.to_value(), vec![prior.revoke(), desired.grant()]) };
        }
        match (prior.with_admin_option, desired.with_admin_option) {
            (false, true) => change(Action::Update, desired.to_value(), vec![desired.grant()]),
            (true, false) => change(Action::Update, desired.to_value(), vec![format!("REVOKE ADMIN OPTION FOR {} FROM {}", ident(&desired.grant_role), ident(&desired.role))]),
            _ => change(Action::NoOp, prior.to_value(), vec![]),
        }
    }
}

/// `postgres_grant_role` as the dispatch points see it.
pub struct GrantRoleKind;

#[async_trait]
impl Kind for GrantRoleKind {
    fn type_name(&self) -> &'static str {
        "postgres_grant_role"
    }

    /// A membership waits for both its roles (and is revoked before either is dropped).
    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        ObjectNames { makes: vec![], uses: ["role", "grant_role"].into_iter().filter_map(|key| value.get_str(key).and_then(|role| scope.role(role))).collect() }
    }

    fn import_id(&self) -> &'static str {
        "role:grant_role"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A role's membership in another role (GRANT grant_role TO role).",
            block: Block::new()
                .attribute("role", A::required(Type::String).force_new().describe("the member"))
                .attribute("grant_role", A::required(Type::String).force_new().describe("the role granted to it"))
                .attribute("with_admin_option", A::optional_computed(Type::Bool).describe("it may grant grant_role to others, default false"))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(live.get(&GrantRole::from_value(state)?.id()).cloned())
    }

    fn adoption_id(&self, planned: &Value) -> Option<String> {
        GrantRole::from_value(&planned.unknowns_to_null()).ok().map(|grant| grant.id())
    }

    async fn plan(&self, _catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(GrantRole::plan(prior.map(GrantRole::from_value).transpose()?.as_ref(), &GrantRole::from_value(desired)?))
    }

    /// A revoke loses nothing a grant cannot give back.
    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(change(Action::Delete, Value::Null, self.drop_statements(prior)?))
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(vec![GrantRole::from_value(prior)?.revoke()])
    }

    fn authorship(&self, live: &Value) -> Result<AuthorshipRow, ProviderError> {
        let grant = GrantRole::from_value(live)?;
        Ok(AuthorshipRow {
            query: "SELECT m.xmin::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = $1 AND g.rolname = $2 LIMIT 1",
            params: vec![grant.role, grant.grant_role],
        })
    }

    fn wanted_key(&self, value: &Value) -> Option<String> {
        GrantRole::from_value(value).ok().map(|grant| grant.id())
    }

    async fn read_keys(&self, catalog: &Catalog<'_>, keys: &BTreeSet<String>) -> Result<BTreeMap<String, Value>, ProviderError> {
        // Since PostgreSQL 16 one membership may be granted by several grantors: one row per pair.
        let sql = format!(
            "SELECT r.rolname::text, g.rolname::text, bool_or(m.admin_option) FROM pg_auth_members m \
             JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid \
             WHERE r.rolname::text || ':' || g.rolname::text = ANY({}) GROUP BY 1, 2",
            text_array(keys)
        );
        let rows = query(catalog, &sql).await?;
        Ok(rows
            .iter()
            .map(|row| GrantRole { role: row.get(0), grant_role: row.get(1), with_admin_option: row.get(2) })
            .map(|grant| (grant.id(), grant.to_value()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(admin: bool) -> GrantRole {
        GrantRole { role: "app_rw".into(), grant_role: "readers".into(), with_admin_option: admin }
    }

    #[test]
    fn grants_revokes_and_admin_option_changes() {
        assert_eq!(GrantRole::plan(None, &grant(true)).operations, ["GRANT \"readers\" TO \"app_rw\" WITH ADMIN OPTION"]);
        assert_eq!(GrantRole::plan(Some(&grant(false)), &grant(false)).action, Action::NoOp);
        assert_eq!(GrantRole::plan(Some(&grant(true)), &grant(false)).operations, ["REVOKE ADMIN OPTION FOR \"readers\" FROM \"app_rw\""]);
        let other = GrantRole { grant_role: "writers".into(), ..grant(false) };
        let replaced = GrantRole::plan(Some(&grant(false)), &other);
        assert_eq!((replaced.action, replaced.replace_because), (Action::Replace, vec!["grant_role".to_owned()]));
        assert_eq!(GrantRoleKind.drop_statements(&grant(false).to_value()).unwrap(), ["REVOKE \"readers\" FROM \"app_rw\""]);
        assert_eq!(GrantRoleKind.adoption_id(&grant(false).to_value()).as_deref(), Some("app_rw:readers"));
    }
}
