//! The configuration this provider accepts: the provider block, each resource type and each data
//! source. Which arguments force a replacement follows the Terraform AWS provider v5.
//!
//! Owns declarations only; defaults that need code (descriptions, apply methods, timeouts) live
//! with the resource that applies them.

use strata_provider_sdk::{
    Attribute as A, Block, NestedBlock, ProviderSchema, ResourceSchema, Type,
};

fn strings() -> Type {
    Type::list_of(Type::String)
}

fn tags() -> A {
    A::optional(Type::map_of(Type::String)).describe("tags on the object")
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
    ResourceSchema {
        periodic: false,
        description: "An RDS database instance.",
        block: Block::new()
            .attribute(
                "identifier",
                A::required(Type::String).describe("instance name; renaming is done in place"),
            )
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
    }
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
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
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
            .block("parameter", NestedBlock::list(parameter)),
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
        .attribute(
            "self",
            A::optional(Type::Bool).describe("the group itself as source/destination"),
        )
        .attribute("description", A::optional(Type::String));
    ResourceSchema {
        periodic: false,
        description: "An EC2 (VPC) security group with inline rules.",
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
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
            .block("egress", NestedBlock::list(rule)),
    }
}

pub fn subnet_group() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "An RDS DB subnet group.",
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute(
                "description",
                A::optional(Type::String).describe("default \"Managed by strata\""),
            )
            .attribute("subnet_ids", A::required(strings()))
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("vpc_id", A::computed(Type::String)),
    }
}

fn vpc_data() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "Looks up one VPC by id, default = true, or tags.",
        block: Block::new()
            .attribute("id", A::optional_computed(Type::String))
            .attribute("default", A::optional_computed(Type::Bool))
            .attribute("tags", A::optional_computed(Type::map_of(Type::String)))
            .attribute("cidr_block", A::computed(Type::String))
            .attribute("arn", A::computed(Type::String))
            .attribute("owner_id", A::computed(Type::String)),
    }
}

fn subnets_data() -> ResourceSchema {
    let filter = Block::new()
        .attribute("name", A::required(Type::String))
        .attribute("values", A::required(strings()));
    ResourceSchema {
        periodic: false,
        description: "The ids of the subnets matching EC2 filters and tags.",
        block: Block::new()
            .attribute("tags", A::optional(Type::map_of(Type::String)))
            .attribute("ids", A::computed(strings()))
            .block("filter", NestedBlock::list(filter)),
    }
}

pub fn db_snapshot() -> ResourceSchema {
    let mut block = Block::new()
        .attribute("db_instance_identifier", A::required(Type::String).force_new())
        .attribute("db_snapshot_identifier", A::required(Type::String).force_new())
        .attribute("tags", tags())
        .attribute("allocated_storage", A::computed(Type::Number))
        .attribute("encrypted", A::computed(Type::Bool));
    for name in ["id", "db_snapshot_arn", "engine", "engine_version", "snapshot_type", "status", "snapshot_create_time"] {
        block = block.attribute(name, A::computed(Type::String));
    }
    ResourceSchema { periodic: false, description: "A manual snapshot of an RDS instance.", block }
}

pub fn db_snapshot_copy() -> ResourceSchema {
    let mut block = Block::new()
        .attribute("source_db_snapshot_identifier", A::required(Type::String).force_new().describe("an identifier, or another region's snapshot ARN for a copy across regions"))
        .attribute("target_db_snapshot_identifier", A::required(Type::String).force_new())
        .attribute("kms_key_id", A::optional(Type::String).force_new())
        .attribute("copy_tags", A::optional(Type::Bool).force_new())
        .attribute("tags", tags())
        .attribute("allocated_storage", A::computed(Type::Number))
        .attribute("encrypted", A::computed(Type::Bool));
    for name in ["id", "db_snapshot_arn", "engine", "engine_version", "snapshot_type", "status", "snapshot_create_time", "source_region"] {
        block = block.attribute(name, A::computed(Type::String));
    }
    ResourceSchema { periodic: false, description: "A copy of an RDS snapshot, in the provider's region.", block }
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
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("kms_key_arn", A::optional_computed(Type::String).force_new().describe("default: AWS Backup's own key"))
            .attribute("force_destroy", A::optional(Type::Bool).describe("default false: a vault holding recovery points is not deleted; true deletes them with it"))
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String).describe("the vault's name"))
            .attribute("arn", A::computed(Type::String))
            .attribute("recovery_points", A::computed(Type::Number)),
    }
}

fn backup_lifecycle() -> NestedBlock {
    NestedBlock::single(
        Block::new()
            .attribute("cold_storage_after", A::optional(Type::Number).describe("days until a recovery point moves to cold storage"))
            .attribute("delete_after", A::optional(Type::Number).describe("days until a recovery point is deleted; at least 90 after cold_storage_after")),
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
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("tags", tags())
            .attribute("id", A::computed(Type::String).describe("the plan's id"))
            .attribute("arn", A::computed(Type::String))
            .attribute("version", A::computed(Type::String).describe("changes with every update"))
            .block("rule", NestedBlock::list(rule).at_least(1))
            .block("advanced_backup_setting", NestedBlock::list(advanced)),
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
        block: Block::new()
            .attribute("name", A::required(Type::String).force_new())
            .attribute("plan_id", A::required(Type::String).force_new())
            .attribute("iam_role_arn", A::required(Type::String).force_new())
            .attribute("resources", A::optional(strings()).force_new())
            .attribute("not_resources", A::optional(strings()).force_new())
            .attribute("id", A::computed(Type::String))
            .block("selection_tag", NestedBlock::list(selection_tag).force_new())
            .block("condition", NestedBlock::list(condition).force_new()),
    }
}

fn db_snapshot_data() -> ResourceSchema {
    let computed = |name| (name, A::computed(Type::String));
    let mut block = Block::new()
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

pub fn provider_schema() -> ProviderSchema {
    let mut schema = ProviderSchema {
        provider: provider_block(),
        ..ProviderSchema::default()
    };
    schema.resources.insert("aws_db_instance", db_instance());
    schema
        .resources
        .insert("aws_db_parameter_group", parameter_group());
    schema
        .resources
        .insert("aws_security_group", security_group());
    schema
        .resources
        .insert("aws_db_subnet_group", subnet_group());
    schema.data_sources.insert("aws_vpc", vpc_data());
    schema.data_sources.insert("aws_subnets", subnets_data());
    schema.resources.insert("aws_db_snapshot", db_snapshot());
    schema.resources.insert("aws_db_snapshot_copy", db_snapshot_copy());
    schema.resources.insert("aws_db_snapshot_policy", snapshot_policy());
    schema.resources.insert("aws_db_restore_drill", restore_drill());
    schema.data_sources.insert("aws_db_snapshot", db_snapshot_data());
    schema.resources.insert("aws_backup_vault", backup_vault());
    schema.resources.insert("aws_backup_plan", backup_plan());
    schema.resources.insert("aws_backup_selection", backup_selection());
    schema
}
