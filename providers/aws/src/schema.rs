//! The configuration this provider accepts: the provider block, each resource type and each data
//! source, with Terraform AWS provider v6's argument names. Which arguments force a replacement
//! follows that provider.
//!
//! Owns declarations only, and the kit they share: the arguments every type has (`regional`) and
//! the arguments strata accepts only at AWS's default until it acts on them (`not_yet`); defaults
//! that need code (descriptions, apply methods, timeouts) live with the resource that applies
//! them. The provider schema is assembled from the table of types in `lib.rs`.

use strata_provider_sdk::{
    Attribute as A, Block, NestedBlock, ProviderSchema, ResourceSchema, Syntax, Type,
};

use crate::data_sources::DataSource;
use crate::resource_type::ResourceType;

pub fn strings() -> Type {
    Type::list_of(Type::String)
}

pub fn tags() -> A {
    A::optional(Type::map_of(Type::String)).describe("tags on the object")
}

/// `block` with the arguments Terraform v6 gives every resource: `region` (a change replaces the
/// resource) and, when it has `tags`, the computed `tags_all`.
/// A data source's `region`: where it is read; default: the provider's.
fn data_region() -> A {
    A::optional_computed(Type::String).describe("the region it is read in; default: the provider's")
}

pub fn regional(block: Block) -> Block {
    let has_tags = block.attributes.contains_key("tags");
    let block = block.attribute(
        "region",
        A::optional_computed(Type::String).force_new().describe("the region the resource is managed in; default: the provider's"),
    );
    if has_tags {
        block.attribute("tags_all", A::computed(Type::map_of(Type::String)).describe("the tags, with the provider's default tags (strata has none)"))
    } else {
        block
    }
}

/// The argument values strata does not act on yet are refused at validate: only AWS's default
/// (what leaving the argument out means) passes. One grammar per default, as a grammar is a plain
/// function.
pub mod not_yet {
    use super::*;

    const WHAT: &str = "a value strata supports yet";

    /// The description of a list argument accepted only empty (checked at plan: a grammar
    /// applies to strings only).
    pub const ONLY_EMPTY: &str = "not supported yet: only empty";

    /// The arguments of `block` accepted only at AWS's default: not acted on, so carried in state
    /// and never compared with AWS.
    pub fn names(block: &Block) -> Vec<&'static str> {
        let attributes = block.attributes.iter().filter(|(_, a)| !a.computed);
        let refused = attributes.filter(|(_, a)| a.syntax.is_some_and(|s| s.what == WHAT) || a.description == ONLY_EMPTY);
        refused.map(|(name, _)| *name).collect()
    }

    /// The lists of `block` accepted only empty.
    pub fn lists(block: &Block) -> Vec<&'static str> {
        block.attributes.iter().filter(|(_, a)| a.description == ONLY_EMPTY).map(|(name, _)| *name).collect()
    }

    /// For an attribute read back from AWS whose setting strata does not support yet.
    pub const SETTING: Syntax = Syntax { what: WHAT, check: |given| refuse(given, None) };

    fn refuse(given: &str, default: Option<&str>) -> Result<(), String> {
        match default {
            Some(default) if given.eq_ignore_ascii_case(default) => Ok(()),
            Some(default) => Err(format!("strata does not act on this argument yet; leave it out or set it to {default}, AWS's default")),
            None => Err("strata does not act on this argument yet; leave it out".to_owned()),
        }
    }

    /// Refused whatever its value.
    pub fn any(described: &'static str) -> A {
        A::optional(Type::String).syntax(SETTING).describe(described)
    }

    pub fn unless_false() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("false")) }).describe("bool; not supported yet: only false")
    }

    pub fn unless_true() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("true")) }).describe("bool; not supported yet: only true")
    }

    pub fn unless_zero() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("0")) }).describe("number; not supported yet: only 0")
    }

    pub fn unless_region() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("region")) }).describe("not supported yet: only region")
    }

    pub fn unless_standard() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("standard")) }).describe("not supported yet: only standard")
    }

    pub fn unless_ipv4() -> A {
        A::optional(Type::String).syntax(Syntax { what: WHAT, check: |given| refuse(given, Some("IPV4")) }).describe("not supported yet: only IPV4")
    }
}

fn provider_block() -> Block {
    let endpoints = Block::new()
        .attribute(
            "rds",
            A::optional(Type::String)
                .describe("RDS endpoint URL (else AWS_ENDPOINT_URL_RDS / AWS_ENDPOINT_URL)"),
        )
        .attribute(
            "ec2",
            A::optional(Type::String)
                .describe("EC2 endpoint URL (else AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL)"),
        )
        .attribute(
            "backup",
            A::optional(Type::String)
                .describe("AWS Backup endpoint URL (else AWS_ENDPOINT_URL_BACKUP / AWS_ENDPOINT_URL)"),
        );
    Block::new()
        .attribute(
            "region",
            A::optional(Type::String).describe("AWS region (else AWS_REGION or the profile's)"),
        )
        .attribute(
            "profile",
            A::optional(Type::String).describe("shared config profile (else AWS_PROFILE)"),
        )
        .attribute(
            "access_key",
            A::optional(Type::String)
                .sensitive()
                .describe("access key id (else the standard credential chain)"),
        )
        .attribute(
            "secret_key",
            A::optional(Type::String)
                .sensitive()
                .describe("secret access key"),
        )
        .attribute(
            "max_retries",
            A::optional(Type::Number)
                .describe("retries of throttled or failed (5xx) calls, default 4"),
        )
        .attribute(
            "retry_backoff_ms",
            A::optional(Type::Number).describe(
                "first retry's backoff ceiling in ms (1 to 20000), doubling per retry up to 20 s, with full jitter; default 1000",
            ),
        )
        .block("endpoints", NestedBlock::single(endpoints))
}

pub fn db_instance() -> ResourceSchema {
    let timeouts = Block::new()
        .attribute("create", A::optional(Type::String).describe("default 40m"))
        .attribute("update", A::optional(Type::String).describe("default 80m"))
        .attribute("delete", A::optional(Type::String).describe("default 60m"));
    let point_in_time = Block::new()
        .attribute("source_db_instance_identifier", A::optional(Type::String).describe("the instance whose backups are restored"))
        .attribute("source_dbi_resource_id", A::optional(Type::String).describe("or its resource id (db-...)"))
        .attribute("source_db_instance_automated_backups_arn", A::optional(Type::String).describe("or the ARN of its replicated automated backups"))
        .attribute("restore_time", A::optional(Type::String).describe("the moment to restore to, RFC 3339 (2026-11-30T23:45:00Z)"))
        .attribute("use_latest_restorable_time", A::optional(Type::Bool).describe("or true: the latest restorable time"));
    let live = |ty| A::optional_computed(ty);
    let schema = ResourceSchema {
        periodic: false,
        description: "An RDS database instance.",
        block: Block::new()
            .attribute(
                "identifier",
                A::optional_computed(Type::String).describe("instance name; renaming is done in place; default: generated from identifier_prefix"),
            )
            .attribute("identifier_prefix", A::optional(Type::String).describe("a unique identifier beginning with this is generated at create"))
            .attribute("engine", A::required(Type::String).force_new())
            .attribute(
                "engine_version",
                live(Type::String).describe("a prefix such as \"15\" matches any 15.x"),
            )
            .attribute("instance_class", A::required(Type::String))
            .attribute(
                "allocated_storage",
                A::required(Type::Number).describe("GiB"),
            )
            .attribute(
                "max_allocated_storage",
                live(Type::Number).describe("GiB; storage autoscaling limit"),
            )
            .attribute("storage_type", live(Type::String))
            .attribute("storage_encrypted", live(Type::Bool).force_new())
            .attribute("kms_key_id", live(Type::String).force_new())
            .attribute("availability_zone", live(Type::String).force_new())
            .attribute("username", A::required(Type::String).force_new())
            .attribute(
                "password",
                A::optional(Type::String)
                    .sensitive()
                    .describe("write-only: never read back from AWS"),
            )
            .attribute("db_name", live(Type::String).force_new())
            .attribute(
                "snapshot_identifier",
                A::optional(Type::String).describe("create the instance from this snapshot; read at create only, so changing it later changes nothing"),
            )
            .attribute("port", live(Type::Number))
            .attribute("backup_retention_period", live(Type::Number))
            .attribute("backup_window", live(Type::String))
            .attribute("maintenance_window", live(Type::String))
            .attribute("multi_az", live(Type::Bool))
            .attribute("publicly_accessible", live(Type::Bool))
            .attribute(
                "skip_final_snapshot",
                A::optional(Type::Bool).describe("default false: deleting takes a final snapshot"),
            )
            .attribute("final_snapshot_identifier", A::optional(Type::String))
            .attribute("deletion_protection", live(Type::Bool))
            .attribute("copy_tags_to_snapshot", live(Type::Bool).describe("snapshots (final ones too) carry the instance's tags"))
            .attribute(
                "delete_automated_backups",
                A::optional(Type::Bool).describe("default true: deleting the instance deletes its automated backups; false keeps them for their retention period"),
            )
            .attribute("vpc_security_group_ids", live(strings()))
            .attribute("db_subnet_group_name", live(Type::String))
            .attribute("parameter_group_name", live(Type::String))
            .attribute(
                "apply_immediately",
                A::optional(Type::Bool)
                    .describe("default false: changes wait for the maintenance window"),
            )
            .attribute("allow_major_version_upgrade", A::optional(Type::Bool))
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("address", A::computed(Type::String))
            .attribute(
                "endpoint",
                A::computed(Type::String).describe("address:port"),
            )
            .attribute("status", A::computed(Type::String))
            .attribute("resource_id", A::computed(Type::String))
            .attribute("create_time", A::computed(Type::String))
            .attribute(
                "pending_modifications",
                A::computed(strings()).describe("changes AWS holds until the maintenance window"),
            )
            .block("timeouts", NestedBlock::single(timeouts))
            .block("restore_to_point_in_time", NestedBlock::single(point_in_time)),
    };
    ResourceSchema { block: regional(db_instance_not_yet(db_instance_read_only(schema.block))), ..schema }
}

/// What refresh reads back about an instance beyond its arguments.
fn db_instance_read_only(block: Block) -> Block {
    block
        .attribute("hosted_zone_id", A::computed(Type::String).describe("the Route 53 zone of the endpoint"))
        .attribute("engine_version_actual", A::computed(Type::String).describe("the running version"))
        .attribute("ca_cert_identifier", A::optional_computed(Type::String).syntax(not_yet::SETTING).describe("read back; setting it is not supported yet"))
}

/// Terraform v6's instance arguments strata does not act on yet: accepted at AWS's default only
/// (the lists, when empty: checked at plan, see `rds_instance::UNSUPPORTED_LISTS`).
fn db_instance_not_yet(block: Block) -> Block {
    let block = block
        .attribute("enabled_cloudwatch_logs_exports", A::optional(strings()).describe(not_yet::ONLY_EMPTY))
        .attribute("domain_dns_ips", A::optional(strings()).describe(not_yet::ONLY_EMPTY))
        .attribute("auto_minor_version_upgrade", not_yet::unless_true())
        .attribute("backup_target", not_yet::unless_region())
        .attribute("database_insights_mode", not_yet::unless_standard())
        .attribute("network_type", not_yet::unless_ipv4())
        .attribute("monitoring_interval", not_yet::unless_zero())
        .attribute("iops", not_yet::unless_zero())
        .attribute("storage_throughput", not_yet::unless_zero())
        .attribute("performance_insights_retention_period", not_yet::unless_zero())
        .attribute("password_wo_version", not_yet::unless_zero());
    let off = ["customer_owned_ip_enabled", "dedicated_log_volume", "iam_database_authentication_enabled", "manage_master_user_password", "performance_insights_enabled", "upgrade_storage_config"];
    let refused = [
        "character_set_name", "nchar_character_set_name", "custom_iam_instance_profile", "domain", "domain_auth_secret_arn",
        "domain_fqdn", "domain_iam_role_name", "domain_ou", "engine_lifecycle_support", "license_model", "master_user_secret_kms_key_id",
        "monitoring_role_arn", "option_group_name", "performance_insights_kms_key_id", "replica_mode", "replicate_source_db", "timezone",
    ];
    let block = off.into_iter().fold(block, |block, name| block.attribute(name, not_yet::unless_false()));
    let block = refused.into_iter().fold(block, |block, name| block.attribute(name, not_yet::any("string; not supported yet")));
    let s3_import = ["bucket_name", "bucket_prefix", "ingestion_role", "source_engine", "source_engine_version"]
        .into_iter()
        .fold(Block::new(), |block, name| block.attribute(name, not_yet::any("not supported yet")));
    block
        .attribute("password_wo", A::optional(Type::String).sensitive().syntax(not_yet::SETTING).describe("write-only password: not supported yet, use password"))
        .block("blue_green_update", NestedBlock::single(Block::new().attribute("enabled", not_yet::unless_false())))
        .block("s3_import", NestedBlock::single(s3_import))
}

pub fn parameter_group() -> ResourceSchema {
    let parameter = Block::new()
        .attribute("name", A::required(Type::String))
        .attribute("value", A::required(Type::String))
        .attribute(
            "apply_method",
            A::optional(Type::String)
                .one_of(&["immediate", "pending-reboot"])
                .describe("immediate (default) or pending-reboot"),
        );
    ResourceSchema {
        periodic: false,
        description: "An RDS DB parameter group.",
        block: regional(Block::new()
            .attribute("name", A::optional_computed(Type::String).force_new().describe("default: generated from name_prefix"))
            .attribute("name_prefix", A::optional(Type::String).describe("a unique name beginning with this is generated at create"))
            .attribute("skip_destroy", A::optional(Type::Bool).describe("default false; true: destroy removes the group from state and leaves it in AWS"))
            .attribute("family", A::required(Type::String).force_new())
            .attribute(
                "description",
                A::optional(Type::String)
                    .force_new()
                    .describe("default \"Managed by strata\""),
            )
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .block("parameter", NestedBlock::list(parameter))),
    }
}

pub fn security_group() -> ResourceSchema {
    let rule = Block::new()
        .attribute(
            "protocol",
            A::required(Type::String).describe("tcp, udp, icmp, a number, or -1 / all"),
        )
        .attribute("from_port", A::required(Type::Number))
        .attribute("to_port", A::required(Type::Number))
        .attribute("cidr_blocks", A::optional(strings()))
        .attribute("ipv6_cidr_blocks", A::optional(strings()))
        .attribute(
            "security_groups",
            A::optional(strings()).describe("ids of source/destination groups"),
        )
        .attribute("prefix_list_ids", A::optional(strings()).describe("ids of managed prefix lists (pl-...)"))
        .attribute(
            "self",
            A::optional(Type::Bool).describe("the group itself as source/destination"),
        )
        .attribute("description", A::optional(Type::String));
    let group_timeouts = Block::new()
        .attribute("create", A::optional(Type::String).describe("accepted; the create does not wait for anything"))
        .attribute("delete", A::optional(Type::String).describe("how long a delete retries while the group is in use; default 5m"));
    ResourceSchema {
        periodic: false,
        description: "An EC2 (VPC) security group, with inline rules or none (then standalone rule resources may add them).",
        block: regional(Block::new()
            .attribute("name", A::optional_computed(Type::String).force_new().describe("default: generated from name_prefix"))
            .attribute("name_prefix", A::optional(Type::String).describe("a unique name beginning with this is generated at create"))
            .attribute("revoke_rules_on_delete", A::optional(Type::Bool).describe("default false; true: every rule of the group is revoked before it is deleted (breaks cycles between groups)"))
            .attribute(
                "description",
                A::optional(Type::String)
                    .force_new()
                    .describe("default \"Managed by strata\""),
            )
            .attribute(
                "vpc_id",
                A::optional_computed(Type::String)
                    .force_new()
                    .describe("default: the default VPC"),
            )
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("owner_id", A::computed(Type::String))
            .block("ingress", NestedBlock::list(rule.clone()))
            .block("egress", NestedBlock::list(rule))
            .block("timeouts", NestedBlock::single(group_timeouts))),
    }
}

pub fn subnet_group() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "An RDS DB subnet group.",
        block: regional(Block::new()
            .attribute("name", A::optional_computed(Type::String).force_new().describe("default: generated from name_prefix"))
            .attribute("name_prefix", A::optional(Type::String).describe("a unique name beginning with this is generated at create"))
            .attribute(
                "description",
                A::optional(Type::String).describe("default \"Managed by strata\""),
            )
            .attribute("subnet_ids", A::required(strings()))
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("vpc_id", A::computed(Type::String))
            .attribute("supported_network_types", A::computed(strings()))),
    }
}

pub fn vpc_data() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "Looks up one VPC by id, default = true, or tags.",
        block: Block::new()
            .attribute("region", data_region())
            .attribute("id", A::optional_computed(Type::String))
            .attribute("default", A::optional_computed(Type::Bool))
            .attribute("tags", A::optional_computed(Type::map_of(Type::String)))
            .attribute("cidr_block", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("owner_id", A::computed(Type::String)),
    }
}

pub fn subnets_data() -> ResourceSchema {
    let filter = Block::new()
        .attribute("name", A::required(Type::String))
        .attribute("values", A::required(strings()));
    ResourceSchema {
        periodic: false,
        description: "The ids of the subnets matching EC2 filters and tags.",
        block: Block::new()
            .attribute("region", data_region())
            .attribute("tags", A::optional(Type::map_of(Type::String)))
            .attribute("ids", A::computed(strings()))
            .block("filter", NestedBlock::list(filter)),
    }
}

pub fn db_snapshot() -> ResourceSchema {
    let block = Block::new()
        .attribute("db_instance_identifier", A::required(Type::String).force_new())
        .attribute("db_snapshot_identifier", A::required(Type::String).force_new())
        .attribute("tags", tags())
        .attribute("shared_accounts", A::optional(strings()).describe(not_yet::ONLY_EMPTY))
        .attribute("option_group_name", A::computed(Type::String))
        .attribute("kms_key_id", A::computed(Type::String))
        .attribute("source_db_snapshot_identifier", A::computed(Type::String))
        .attribute("source_region", A::computed(Type::String));
    ResourceSchema { periodic: false, description: "A manual snapshot of an RDS instance.", block: regional(snapshot_readings(block)) }
}

/// What refresh reads back about a snapshot (or a copy) beyond its arguments.
fn snapshot_readings(mut block: Block) -> Block {
    block = block
        .attribute("allocated_storage", A::computed(Type::Number))
        .attribute("iops", A::computed(Type::Number))
        .attribute("port", A::computed(Type::Number))
        .attribute("encrypted", A::computed(Type::Bool));
    for name in ["id", "db_snapshot_arn", "engine", "engine_version", "snapshot_type", "status", "snapshot_create_time", "availability_zone", "license_model", "storage_type", "vpc_id"] {
        block = block.attribute(name, A::computed(Type::String));
    }
    block
}

pub fn db_snapshot_copy() -> ResourceSchema {
    let block = Block::new()
        .attribute("source_db_snapshot_identifier", A::required(Type::String).force_new().describe("an identifier, or another region's snapshot ARN for a copy across regions"))
        .attribute("target_db_snapshot_identifier", A::required(Type::String).force_new())
        .attribute("kms_key_id", A::optional(Type::String).force_new())
        .attribute("copy_tags", A::optional(Type::Bool).force_new())
        .attribute("tags", tags())
        .attribute("shared_accounts", A::optional(strings()).describe(not_yet::ONLY_EMPTY))
        .attribute("destination_region", not_yet::any("not supported yet: set the resource's region instead"))
        .attribute("option_group_name", not_yet::any("not supported yet"))
        .attribute("presigned_url", not_yet::any("not supported yet"))
        .attribute("target_custom_availability_zone", not_yet::any("not supported yet"))
        .attribute("source_region", A::computed(Type::String));
    ResourceSchema { periodic: false, description: "A copy of an RDS snapshot, in the resource's region.", block: regional(snapshot_readings(block)) }
}

pub fn snapshot_policy() -> ResourceSchema {
    let retention = Block::new()
        .attribute("keep_last", A::optional(Type::Number).describe("keep the newest N snapshots"))
        .attribute("keep_days", A::optional(Type::Number).describe("keep snapshots younger than N days"))
        .attribute("min_keep", A::optional(Type::Number).describe("never fewer available snapshots than this, default 1"));
    let copy = Block::new()
        .attribute("region", A::required(Type::String).describe("the region each new snapshot is copied to"))
        .attribute("keep_last", A::optional(Type::Number).describe("keep the newest N copies there; default: the retention block's keep_last"))
        .attribute("kms_key_id", A::optional(Type::String).describe("a KMS key of that region, for encrypted snapshots"));
    ResourceSchema {
        periodic: true,
        description: "Manual RDS snapshots of one instance on a freshness rule, pruned by retention (strata's own type).",
        block: Block::new()
            .attribute("db_instance_identifier", A::required(Type::String))
            .attribute(
                "every",
                A::required(Type::String)
                    .syntax(strata_provider_sdk::duty::DURATION)
                    .describe("a snapshot is due when the newest is older than this (24h, 7d)"),
            )
            .attribute("id", A::computed(Type::String).describe("INSTANCE/TOKEN; the policy's snapshots carry the tag strata:snapshot-policy = TOKEN"))
            .attribute("snapshots", A::computed(Type::list_of(Type::Any)).describe("the policy's snapshots, oldest first"))
            .attribute("copies", A::computed(Type::list_of(Type::Any)).describe("the policy's copies in copy_to_region's region, oldest first"))
            .block("retention", NestedBlock::single(retention))
            .block("copy_to_region", NestedBlock::single(copy)),
    }
}

pub fn restore_drill() -> ResourceSchema {
    let optional = |what| A::optional(Type::String).describe(what);
    ResourceSchema {
        periodic: true,
        description: "Restores the newest snapshot of an instance or a snapshot policy into a scratch instance on a freshness rule, checks its settings and deletes it (strata's own type).",
        block: Block::new()
            .attribute("db_instance_identifier", optional("restore this instance's newest available snapshot (manual or automated); or snapshot_policy"))
            .attribute("snapshot_policy", optional("an aws_db_snapshot_policy's id: restore its newest available snapshot"))
            .attribute("every", A::required(Type::String).syntax(strata_provider_sdk::duty::DURATION).describe("a drill is due when the last passed run is older than this (7d)"))
            .attribute("parameter_group_name", A::required(Type::String).describe("the scratch instance's parameter group"))
            .attribute("vpc_security_group_ids", A::required(strings()).describe("the scratch instance's security groups"))
            .attribute("db_subnet_group_name", optional("the scratch instance's subnet group; default: the snapshot's"))
            .attribute("instance_class", optional("the scratch instance's class; default: the snapshot's"))
            .attribute("id", A::computed(Type::String).describe("drill-TOKEN; scratch instances carry the tag strata:restore-drill = TOKEN"))
            .attribute("last_run", A::computed(Type::Any).describe("the last run: at, instance (the scratch instance), snapshot, passed, restore_seconds, checks, failures")),
    }
}

pub fn backup_vault() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "An AWS Backup vault.",
        block: regional(Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("kms_key_arn", A::optional_computed(Type::String).force_new().describe("default: AWS Backup's own key"))
            .attribute("force_destroy", A::optional(Type::Bool).describe("default false: a vault holding recovery points is not deleted; true deletes them with it"))
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String).describe("the vault's name"))
            .attribute("arn", A::computed(Type::String))
            .attribute("recovery_points", A::computed(Type::Number))),
    }
}

fn backup_lifecycle() -> NestedBlock {
    NestedBlock::single(
        Block::new()
            .attribute("cold_storage_after", A::optional(Type::Number).describe("days until a recovery point moves to cold storage"))
            .attribute("delete_after", A::optional(Type::Number).describe("days until a recovery point is deleted; at least 90 after cold_storage_after"))
            .attribute("opt_in_to_archive_for_supported_resources", not_yet::unless_false()),
    )
}

pub fn backup_plan() -> ResourceSchema {
    let copy_action = Block::new()
        .attribute("destination_vault_arn", A::required(Type::String))
        .block("lifecycle", backup_lifecycle());
    let rule = Block::new()
        .attribute("rule_name", A::required(Type::String))
        .attribute("target_vault_name", A::required(Type::String))
        .attribute("schedule", A::optional_computed(Type::String).syntax(crate::backup_cron::CRON).describe("cron(Minutes Hours Day-of-month Month Day-of-week Year); default AWS's daily cron(0 5 ? * * *)"))
        .attribute("schedule_expression_timezone", A::optional_computed(Type::String).describe("default Etc/UTC"))
        .attribute("start_window", A::optional(Type::Number).describe("minutes, at least 60; default 60"))
        .attribute("completion_window", A::optional(Type::Number).describe("minutes, at least start_window + 60; default 180"))
        .attribute("enable_continuous_backup", A::optional(Type::Bool))
        .attribute("recovery_point_tags", A::optional(Type::map_of(Type::String)))
        .block("lifecycle", backup_lifecycle())
        .block("copy_action", NestedBlock::list(copy_action));
    let advanced = Block::new()
        .attribute("backup_options", A::required(Type::map_of(Type::String)))
        .attribute("resource_type", A::required(Type::String));
    ResourceSchema {
        periodic: false,
        description: "An AWS Backup plan: when backups run, where they go and how long they are kept.",
        block: regional(Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String).describe("the plan's id"))
            .attribute("arn", A::computed(Type::String))
            .attribute("version", A::computed(Type::String).describe("changes with every update"))
            .block("rule", NestedBlock::list(rule).at_least(1))
            .block("advanced_backup_setting", NestedBlock::list(advanced))),
    }
}

pub fn backup_selection() -> ResourceSchema {
    let pair = || NestedBlock::list(Block::new().attribute("key", A::required(Type::String)).attribute("value", A::required(Type::String))).force_new();
    let condition = Block::new()
        .block("string_equals", pair())
        .block("string_not_equals", pair())
        .block("string_like", pair())
        .block("string_not_like", pair());
    let selection_tag = Block::new()
        .attribute("type", A::required(Type::String).one_of(&["STRINGEQUALS"]))
        .attribute("key", A::required(Type::String))
        .attribute("value", A::required(Type::String));
    ResourceSchema {
        periodic: false,
        description: "The resources an AWS Backup plan backs up; any change replaces it.",
        block: regional(Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("plan_id", A::required(Type::String).force_new())
            .attribute("iam_role_arn", A::required(Type::String).force_new())
            .attribute("resources", A::optional(strings()).force_new())
            .attribute("not_resources", A::optional(strings()).force_new())
            .attribute("id", A::computed(Type::String))
            .block("selection_tag", NestedBlock::list(selection_tag).force_new())
            .block("condition", NestedBlock::list(condition).force_new())),
    }
}

pub fn db_snapshot_data() -> ResourceSchema {
    let computed = |name| (name, A::computed(Type::String));
    let mut block = Block::new()
        .attribute("region", data_region())
        .attribute("db_instance_identifier", A::optional(Type::String))
        .attribute("db_snapshot_identifier", A::optional_computed(Type::String))
        .attribute("snapshot_type", A::optional(Type::String).one_of(&["automated", "manual", "shared", "public", "awsbackup"]))
        .attribute("most_recent", A::optional(Type::Bool).describe("the newest of several matches; without it, several are an error"))
        .attribute("include_shared", A::optional(Type::Bool))
        .attribute("include_public", A::optional(Type::Bool))
        .attribute("allocated_storage", A::computed(Type::Number))
        .attribute("port", A::computed(Type::Number))
        .attribute("encrypted", A::computed(Type::Bool));
    for (name, attribute) in ["id", "db_snapshot_arn", "availability_zone", "engine", "engine_version", "snapshot_create_time", "status", "storage_type", "vpc_id", "kms_key_id", "source_region"].map(computed) {
        block = block.attribute(name, attribute);
    }
    ResourceSchema { periodic: false, description: "Looks up one RDS DB snapshot (Terraform's data source of the same name).", block }
}

/// The provider's schema, from the tables of resource types and data sources.
pub fn provider_schema(types: &[&dyn ResourceType], data_sources: &[&dyn DataSource]) -> ProviderSchema {
    let mut schema = ProviderSchema {
        source: "hashicorp/aws",
        // The resource and argument names of Terraform's AWS provider v6.
        implements: "6.0.0",
        provider: provider_block(),
        ..ProviderSchema::default()
    };
    for kind in types {
        schema.resources.insert(kind.name(), kind.schema());
        if let Some(form) = kind.import_id_form() {
            schema.import_ids.insert(kind.name(), form);
        }
    }
    for source in data_sources {
        schema.data_sources.insert(source.name(), source.schema());
    }
    schema
}
