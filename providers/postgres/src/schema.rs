//! The configuration this provider accepts: the provider block and each resource type.

use strata_provider_sdk::{Attribute as A, Block, NestedBlock, ProviderSchema, ResourceSchema, Syntax, Type};

/// An index method is pasted into `CREATE INDEX ... USING`, so it must be a bare name; plan then
/// checks that the server has it (see `preflight::refuse_unknown_methods`).
const INDEX_METHOD: Syntax = Syntax { what: "an index method's name", check: index_method };

fn index_method(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    let name = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    name.then_some(()).ok_or_else(|| "a method is one word of letters, digits and underscores, such as btree, gin, brin or hnsw".to_owned())
}
/// `ON DELETE` / `ON UPDATE` actions, pasted into the foreign key's DDL.
const REFERENTIAL_ACTIONS: &[&str] = &["no action", "restrict", "cascade", "set null", "set default"];
/// `MATCH` of a foreign key; `partial` is accepted here to be refused with PostgreSQL's reason.
const MATCH_TYPES: &[&str] = &["simple", "full", "partial"];
const STORAGES: &[&str] = &["plain", "external", "extended", "main"];
const COMPRESSIONS: &[&str] = &["pglz", "lz4"];

fn string_list() -> Type {
    Type::list_of(Type::String)
}

fn provider_block() -> Block {
    Block::new()
        .attribute("host", A::optional(Type::String).describe("server host (PGHOST)"))
        .attribute("port", A::optional(Type::Number).describe("server port (PGPORT)"))
        .attribute("database", A::optional(Type::String).describe("database name (PGDATABASE)"))
        .attribute("username", A::optional(Type::String).describe("user name (PGUSER)"))
        .attribute("password", A::optional(Type::String).sensitive().describe("password (PGPASSWORD)"))
        .attribute("sslmode", A::optional(Type::String).one_of(crate::config::SSL_MODES).describe("disable, prefer, require, verify-ca or verify-full"))
        .attribute("url", A::optional(Type::String).sensitive().describe("postgres:// connection URL (DATABASE_URL)"))
        .attribute("connect_timeout", A::optional(Type::Number).describe("seconds"))
        .attribute("lock_timeout", A::optional(Type::String).describe("how long DDL waits for a lock before failing, default 5s; 0 waits for ever"))
        .attribute("backup_before_drop", A::optional(Type::Bool).describe("copy a table or column into schema strata_backup before dropping it"))
        .attribute("sslrootcert", A::optional(Type::String).describe("PEM file of the certificate authority verify-ca and verify-full trust (PGSSLROOTCERT)"))
        .attribute("scheme", A::optional(Type::String).describe("only postgres: strata speaks PostgreSQL's own protocol"))
        .attribute("superuser", A::optional(Type::Bool).describe("false when the role is no superuser (RDS): strata then does not read the password verifiers in pg_authid"))
        .attribute("max_connections", A::optional(Type::Number).describe("connections open at once, default 20"))
        .attribute("expected_version", A::optional(Type::String).describe("fail unless the server is at least this version"))
        .attribute("database_username", A::optional(Type::String).describe("the role's name inside the database where it differs from username; strata names it current_user, so it needs no mapping"))
}

fn index_fields(block: Block) -> Block {
    block
        .attribute("name", A::required(Type::String))
        .attribute("columns", A::required(string_list()).describe("columns or expressions, each optionally with COLLATE \"x\", an operator class, ASC/DESC and NULLS FIRST/LAST"))
        .attribute("unique", A::optional_computed(Type::Bool))
        .attribute("using", A::optional_computed(Type::String).syntax(INDEX_METHOD).describe("index method installed on the server, default btree"))
        .attribute("where", A::optional(Type::String).describe("predicate of a partial index"))
        .attribute("include", A::optional(string_list()).describe("non-key columns"))
        .attribute("with", A::optional(Type::map_of(Type::String)).describe("storage parameters, such as fillfactor or m; changed in place"))
        .attribute("nulls_not_distinct", A::optional_computed(Type::Bool).describe("a unique index holds one NULL at most (PostgreSQL 15)"))
        .attribute("comment", A::optional(Type::String).describe("changed in place"))
}

/// When a constraint is checked: `deferrable`, `initially_deferred`.
fn deferral_fields(block: Block) -> Block {
    block
        .attribute("deferrable", A::optional_computed(Type::Bool).describe("whether SET CONSTRAINTS can defer it to commit, default false"))
        .attribute("initially_deferred", A::optional_computed(Type::Bool).describe("checked at commit unless SET CONSTRAINTS says otherwise; needs deferrable"))
}

fn validated_field(block: Block) -> Block {
    block.attribute("validated", A::optional_computed(Type::Bool).describe("false adds it NOT VALID and leaves existing rows unchecked; true (default) validates them"))
}

fn table() -> ResourceSchema {
    let column = Block::new()
        .attribute("name", A::required(Type::String))
        .attribute("type", A::required(Type::String).syntax(crate::type_syntax::TYPE_NAME).describe("a PostgreSQL type, such as bigint or varchar(255)"))
        .attribute("null", A::optional_computed(Type::Bool).describe("whether NULL is allowed, default true"))
        .attribute("default", A::optional(Type::String).describe("SQL expression"))
        .attribute("identity", A::optional(Type::String).one_of_keywords(&["always", "by default"]).describe("always or by default"))
        .attribute("identity_start", A::optional_computed(Type::Number).describe("START WITH of the identity's sequence; unset keeps the live one"))
        .attribute("identity_increment", A::optional_computed(Type::Number).describe("INCREMENT BY of the identity's sequence; unset keeps the live one"))
        .attribute("generated", A::optional(Type::String).describe("SQL expression of a STORED generated column"))
        .attribute("collation", A::optional(Type::String).describe("collation name, such as C; unset is the type's default"))
        .attribute("compression", A::optional(Type::String).one_of_keywords(COMPRESSIONS).describe("pglz or lz4; unset is the server's default_toast_compression"))
        .attribute("storage", A::optional_computed(Type::String).one_of_keywords(STORAGES).describe("plain, external, extended or main; unset keeps the live one"))
        .attribute("comment", A::optional(Type::String))
        .attribute("renamed_from", A::optional(Type::String).describe("the column's previous name: plan renames it in place"))
        .attribute("sensitive", A::optional(Type::Bool).describe("holds data only some roles may read: plan warns when PUBLIC can read the table"));
    let unique = deferral_fields(Block::new().attribute("name", A::optional_computed(Type::String)).attribute("columns", A::required(string_list())));
    let check = validated_field(Block::new().attribute("name", A::optional_computed(Type::String)).attribute("expression", A::required(Type::String)));
    let exclude = deferral_fields(
        Block::new()
            .attribute("name", A::optional_computed(Type::String))
            .attribute("using", A::optional_computed(Type::String).syntax(INDEX_METHOD).describe("index method, default gist"))
            .attribute("elements", A::required(string_list()).describe("\"column WITH operator\" or \"expression WITH operator\", such as \"during WITH &&\""))
            .attribute("where", A::optional(Type::String).describe("predicate: only rows it holds for are compared")),
    );
    let foreign_key = Block::new()
        .attribute("name", A::optional_computed(Type::String))
        .attribute("columns", A::required(string_list()))
        .attribute("references", A::required(Type::String).describe("the referenced table, schema.table"))
        .attribute("ref_columns", A::required(string_list()))
        .attribute("on_delete", A::optional_computed(Type::String).one_of_keywords(REFERENTIAL_ACTIONS))
        .attribute("on_update", A::optional_computed(Type::String).one_of_keywords(REFERENTIAL_ACTIONS))
        .attribute("match", A::optional_computed(Type::String).one_of_keywords(MATCH_TYPES).describe("simple (default) or full"));
    let foreign_key = validated_field(deferral_fields(foreign_key));
    let partition_by = Block::new()
        .attribute("strategy", A::required(Type::String).one_of_keywords(crate::partitions::STRATEGIES).describe("range, list or hash"))
        .attribute("columns", A::required(string_list()).describe("the key's columns or expressions"));
    ResourceSchema {
        periodic: false,
        description: "A table with its columns, keys, constraints and indexes; partitioned (partition_by) or a partition (partition_of).",
        block: Block::new()
            .attribute("schema", A::optional_computed(Type::String).describe("default public"))
            .attribute("name", A::required(Type::String).describe("a new name renames the table in place"))
            .attribute("renamed_from", A::optional(Type::String).describe("the table's previous name, for a rename strata did not see in state"))
            .attribute("comment", A::optional(Type::String))
            .attribute("owner", A::optional_computed(Type::String).describe("the owning role; unset keeps the live owner"))
            .attribute(
                "row_level_security",
                A::optional_computed(Type::map_of(Type::Bool)).describe("{ enabled = bool, force = bool }: policies filter rows (force: the owner's too); unset keeps the live setting"),
            )
            .attribute("primary_key", A::optional(string_list()))
            .attribute("id", A::computed(Type::String))
            .attribute("partition_of", A::optional(Type::String).describe("the partitioned table (schema.table) this table is a partition of; its columns are the parent's"))
            .attribute("bound", A::optional(Type::String).describe("a partition's bound: FOR VALUES FROM (...) TO (...), FOR VALUES IN (...), FOR VALUES WITH (MODULUS m, REMAINDER r), or DEFAULT"))
            .block("partition_by", NestedBlock::single(partition_by))
            .block("column", NestedBlock::list(column))
            .block("unique", NestedBlock::list(unique))
            .block("check", NestedBlock::list(check))
            .block("foreign_key", NestedBlock::list(foreign_key))
            .block("exclude", NestedBlock::list(exclude))
            .block("index", NestedBlock::list(index_fields(Block::new()))),
    }
}

/// A `postgres_schema` `policy` block: one role's privileges on the schema.
fn schema_policy() -> Block {
    Block::new()
        .attribute("role", A::required(Type::String).describe("the role granted to, or public"))
        .attribute("usage", A::optional(Type::Bool).describe("USAGE: look up objects in the schema"))
        .attribute("usage_with_grant", A::optional(Type::Bool).describe("USAGE WITH GRANT OPTION"))
        .attribute("create", A::optional(Type::Bool).describe("CREATE: make objects in the schema"))
        .attribute("create_with_grant", A::optional(Type::Bool).describe("CREATE WITH GRANT OPTION"))
}

pub fn provider_schema() -> ProviderSchema {
    let mut schema = ProviderSchema { source: "strata/postgres", implements: env!("CARGO_PKG_VERSION"), provider: provider_block(), ..ProviderSchema::default() };
    schema.resources.insert(
        "postgres_schema",
        ResourceSchema {
            periodic: false,
            description: "A schema (namespace).",
            block: Block::new()
                .attribute("name", A::required(Type::String).force_new())
                .attribute("owner", A::optional_computed(Type::String).describe("the owning role; unset keeps the live owner"))
                .attribute("comment", A::optional_computed(Type::String).describe("unset leaves the live comment as it is"))
                .attribute("database", A::optional(Type::String).describe("must be the database the provider is connected to"))
                .attribute("if_not_exists", A::optional(Type::Bool).describe("accepted for community configurations; strata never takes over a schema it did not create, so an existing one fails the create with the import command"))
                .attribute("drop_cascade", A::optional(Type::Bool).describe("deleting it drops every object in it (data loss), default false"))
                .attribute("id", A::computed(Type::String))
                .block("policy", NestedBlock::list(schema_policy())),
        },
    );
    schema.resources.insert(
        "postgres_extension",
        ResourceSchema {
            periodic: false,
            description: "An extension, such as pgcrypto or vector.",
            block: Block::new()
                .attribute("name", A::required(Type::String).force_new())
                .attribute("schema", A::optional_computed(Type::String))
                .attribute("version", A::optional_computed(Type::String))
                .attribute("id", A::computed(Type::String)),
        },
    );
    schema.resources.insert(
        "postgres_enum",
        ResourceSchema {
            periodic: false,
            description: "An enum type.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new())
                .attribute("name", A::required(Type::String).force_new())
                .attribute("values", A::required(string_list()))
                .attribute("owner", A::optional_computed(Type::String).describe("the owning role; unset keeps the live owner"))
                .attribute("comment", A::optional_computed(Type::String).describe("unset leaves the live comment as it is"))
                .attribute("id", A::computed(Type::String)),
        },
    );
    schema.resources.insert("postgres_table", table());
    schema.resources.extend(crate::backup::schemas());
    schema.resources.insert(
        "postgres_index",
        ResourceSchema {
            periodic: false,
            description: "An index outside any table block, optionally built CONCURRENTLY.",
            block: index_fields(Block::new())
                .attribute("schema", A::optional_computed(Type::String))
                .attribute("table", A::required(Type::String).describe("schema.table or table"))
                .attribute("concurrently", A::optional_computed(Type::Bool))
                .attribute("valid", A::computed(Type::Bool))
                .attribute("id", A::computed(Type::String)),
        },
    );
    crate::objects::register(&mut schema);
    for relation in ["postgres_table", "postgres_index", "postgres_enum"] {
        schema.import_ids.insert(relation, "schema.name, or name for one in public");
    }
    for named in ["postgres_schema", "postgres_extension"] {
        schema.import_ids.insert(named, "its name");
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_method_is_a_bare_name() {
        assert!(index_method("hnsw").is_ok() && index_method("BTree").is_ok() && index_method("my_am2").is_ok());
        for pasted in ["", "btree (id); DROP TABLE users; --", "gin\"", "public.gin", "2am"] {
            assert!(index_method(pasted).is_err(), "{pasted}");
        }
    }
}
