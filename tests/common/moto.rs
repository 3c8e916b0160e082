//! The moto AWS emulator the tests run against: `scripts/test.sh` starts it and exports
//! `STRATA_MOTO_URL` (a loopback address, or the tests refuse to run); every `strata` a test starts
//! is pointed at it by `common::command`, with dummy credentials.
//! Tests read what strata did through the AWS SDK, and use names of their own so that they can
//! run in parallel against one server.

use aws_sdk_ec2::types::Filter;
use aws_sdk_rds::types::DbInstance;

pub struct Moto {
    url: String,
    runtime: tokio::runtime::Runtime,
    rds: aws_sdk_rds::Client,
    ec2: aws_sdk_ec2::Client,
    backup: aws_sdk_backup::Client,
}

impl Moto {
    pub fn new() -> Moto {
        let url = super::moto_url().unwrap_or_else(|| {
            panic!(
                "\n\nmoto is not running: run scripts/test.sh (it starts moto), or start one with: \
                 source scripts/services.sh && ensure_moto\n\n"
            )
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        // Built by hand, not from the environment or ~/.aws: dummy credentials, moto's endpoint only.
        let credentials = aws_sdk_rds::config::Credentials::new("testing", "testing", None, None, "strata-tests");
        let rds = aws_sdk_rds::Config::builder()
            .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
            .region(aws_sdk_rds::config::Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(&url)
            .build();
        let ec2 = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(&url)
            .build();
        let backup = aws_sdk_backup::Config::builder()
            .behavior_version(aws_sdk_backup::config::BehaviorVersion::latest())
            .region(aws_sdk_backup::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(&url)
            // As strata sends ListTags, on the path moto reads.
            .interceptor(strata_provider_aws::DocumentedListTagsPath)
            .build();
        Moto {
            rds: aws_sdk_rds::Client::from_conf(rds),
            ec2: aws_sdk_ec2::Client::from_conf(ec2),
            backup: aws_sdk_backup::Client::from_conf(backup),
            runtime,
            url,
        }
    }

    /// The emulator's endpoint (`STRATA_MOTO_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn default_vpc(&self) -> String {
        let filter = Filter::builder().name("isDefault").values("true").build();
        let vpcs = self.runtime.block_on(self.ec2.describe_vpcs().filters(filter).send()).expect("describe VPCs");
        vpcs.vpcs().first().and_then(|v| v.vpc_id()).expect("moto has a default VPC").to_owned()
    }

    pub fn instance(&self, identifier: &str) -> Option<DbInstance> {
        let found = self.runtime.block_on(self.rds.describe_db_instances().db_instance_identifier(identifier).send());
        found.ok().and_then(|out| out.db_instances().first().cloned())
    }

    pub fn snapshot_exists(&self, snapshot: &str) -> bool {
        let found = self.runtime.block_on(self.rds.describe_db_snapshots().db_snapshot_identifier(snapshot).send());
        found.is_ok_and(|out| !out.db_snapshots().is_empty())
    }

    /// Takes a manual snapshot `snapshot` of the instance `identifier` behind strata's back.
    pub fn create_snapshot(&self, identifier: &str, snapshot: &str) {
        let create = self.rds.create_db_snapshot().db_instance_identifier(identifier).db_snapshot_identifier(snapshot);
        self.runtime.block_on(create.send()).expect("create snapshot");
    }

    /// Deletes an instance made behind strata's back, without a final snapshot. A test that made one
    /// deletes it before its parameter group goes: moto (unlike RDS) deletes a group still in use,
    /// and then fails every DescribeDBInstances that would list the instance, other tests' included.
    pub fn delete_instance(&self, identifier: &str) {
        let delete = self.rds.delete_db_instance().db_instance_identifier(identifier).skip_final_snapshot(true);
        self.runtime.block_on(delete.send()).expect("delete instance");
    }

    pub fn delete_snapshot(&self, snapshot: &str) {
        self.runtime.block_on(self.rds.delete_db_snapshot().db_snapshot_identifier(snapshot).send()).expect("delete snapshot");
    }

    pub fn parameter_group_exists(&self, name: &str) -> bool {
        let found = self.runtime.block_on(self.rds.describe_db_parameter_groups().db_parameter_group_name(name).send());
        found.is_ok_and(|out| !out.db_parameter_groups().is_empty())
    }

    /// The ingress rules of the security group called `name`, as (protocol, from, to), or `None`
    /// when there is no such group.
    pub fn ingress(&self, name: &str) -> Option<Vec<(String, i32, i32)>> {
        let filter = Filter::builder().name("group-name").values(name).build();
        let groups = self.runtime.block_on(self.ec2.describe_security_groups().filters(filter).send()).expect("describe security groups");
        let group = groups.security_groups().first()?;
        Some(
            group
                .ip_permissions()
                .iter()
                .map(|p| (p.ip_protocol().unwrap_or_default().to_owned(), p.from_port().unwrap_or(0), p.to_port().unwrap_or(0)))
                .collect(),
        )
    }

    /// Every rule of group `group_id`, one line each: `ingress tcp 5432-5432 10.0.0.0/16`
    /// (the source a CIDR, IPv6 CIDR, prefix list or group id), sorted.
    pub fn rules(&self, group_id: &str) -> Vec<String> {
        let filter = Filter::builder().name("group-id").values(group_id).build();
        let found = self.runtime.block_on(self.ec2.describe_security_group_rules().filters(filter).send()).expect("describe security group rules");
        let mut lines: Vec<String> = found
            .security_group_rules()
            .iter()
            .map(|rule| {
                let source = rule
                    .cidr_ipv4()
                    .or(rule.cidr_ipv6())
                    .or(rule.prefix_list_id())
                    .or(rule.referenced_group_info().and_then(|g| g.group_id()))
                    .unwrap_or_default();
                let direction = if rule.is_egress() == Some(true) { "egress" } else { "ingress" };
                format!("{direction} {} {}-{} {source}", rule.ip_protocol().unwrap_or_default(), rule.from_port().unwrap_or(-1), rule.to_port().unwrap_or(-1))
            })
            .collect();
        lines.sort();
        lines
    }

    /// Adds an ingress rule to group `group_id` behind strata's back.
    pub fn authorize_by_hand(&self, group_id: &str, port: i32, cidr: &str) {
        let range = aws_sdk_ec2::types::IpRange::builder().cidr_ip(cidr).description("added by hand").build();
        let permission = aws_sdk_ec2::types::IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(range).build();
        let authorize = self.ec2.authorize_security_group_ingress().group_id(group_id).ip_permissions(permission);
        self.runtime.block_on(authorize.send()).expect("authorize by hand");
    }

    /// Whether the security group `group_id` exists.
    pub fn group_exists(&self, group_id: &str) -> bool {
        let filter = Filter::builder().name("group-id").values(group_id).build();
        let groups = self.runtime.block_on(self.ec2.describe_security_groups().filters(filter).send()).expect("describe security groups");
        !groups.security_groups().is_empty()
    }

    /// Changes an instance's class behind strata's back, at once (as a console user would).
    pub fn modify_instance_class(&self, identifier: &str, class: &str) {
        let modify = self.rds.modify_db_instance().db_instance_identifier(identifier).db_instance_class(class).apply_immediately(true);
        self.runtime.block_on(modify.send()).expect("modify the instance class");
    }

    /// Deletes the security group called `name` behind strata's back.
    pub fn delete_security_group(&self, name: &str) {
        let filter = Filter::builder().name("group-name").values(name).build();
        let groups = self.runtime.block_on(self.ec2.describe_security_groups().filters(filter).send()).expect("describe security groups");
        let id = groups.security_groups().first().and_then(|g| g.group_id()).expect("the security group exists").to_owned();
        self.runtime.block_on(self.ec2.delete_security_group().group_id(id).send()).expect("delete the security group");
    }
}

/// A short name part unique to this test run, for AWS names (letters, digits and hyphens).
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// Objects made behind strata's back, as `strata import` finds them.
impl Moto {
    /// A security group in `vpc` with one TCP ingress rule (`port` from `cidr`); answers its id.
    pub fn create_security_group(&self, name: &str, vpc: &str, port: i32, cidr: &str) -> String {
        use aws_sdk_ec2::types::{IpPermission, IpRange};
        let created = self.runtime.block_on(self.ec2.create_security_group().group_name(name).description("made by hand").vpc_id(vpc).send());
        let id = created.expect("create security group").group_id().expect("a group id").to_owned();
        let rule = IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(IpRange::builder().cidr_ip(cidr).build()).build();
        self.runtime.block_on(self.ec2.authorize_security_group_ingress().group_id(&id).ip_permissions(rule).send()).expect("authorize ingress");
        id
    }

    /// Tags the instance `identifier` with `key = value`, as an interrupted run would have.
    pub fn tag_instance(&self, identifier: &str, key: &str, value: &str) {
        let arn = self.instance(identifier).and_then(|i| i.db_instance_arn().map(str::to_owned)).expect("the instance's ARN");
        let tag = aws_sdk_rds::types::Tag::builder().key(key).value(value).build();
        self.runtime.block_on(self.rds.add_tags_to_resource().resource_name(arn).tags(tag).send()).expect("tag the instance");
    }

    /// A DB parameter group with `parameters` (name, value) set for the next reboot.
    pub fn create_parameter_group(&self, name: &str, family: &str, parameters: &[(&str, &str)]) {
        use aws_sdk_rds::types::{ApplyMethod, Parameter};
        let create = self.rds.create_db_parameter_group().db_parameter_group_name(name).db_parameter_group_family(family).description("made by hand");
        self.runtime.block_on(create.send()).expect("create parameter group");
        let parameters = parameters.iter().map(|(n, v)| Parameter::builder().parameter_name(*n).parameter_value(*v).apply_method(ApplyMethod::PendingReboot).build());
        let modify = self.rds.modify_db_parameter_group().db_parameter_group_name(name).set_parameters(Some(parameters.collect()));
        self.runtime.block_on(modify.send()).expect("set parameters");
    }

    /// A small PostgreSQL 14.7 instance in `security_group`, using `parameter_group`.
    pub fn create_instance(&self, identifier: &str, password: &str, security_group: &str, parameter_group: &str) {
        let create = self
            .rds
            .create_db_instance()
            .db_instance_identifier(identifier)
            .engine("postgres")
            .engine_version("14.7")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("app")
            .master_user_password(password)
            .vpc_security_group_ids(security_group)
            .db_parameter_group_name(parameter_group);
        self.runtime.block_on(create.send()).expect("create instance");
    }
}

/// Counting what exists, for tests that must find nothing created twice.
impl Moto {
    pub fn subnet_group_exists(&self, name: &str) -> bool {
        let found = self.runtime.block_on(self.rds.describe_db_subnet_groups().db_subnet_group_name(name).send());
        found.is_ok_and(|out| !out.db_subnet_groups().is_empty())
    }

    /// How many security groups called `name` there are in `region`.
    pub fn security_group_count_in(&self, name: &str, region: &str) -> usize {
        let config = self.ec2.config().to_builder().region(aws_sdk_ec2::config::Region::new(region.to_owned())).build();
        let filter = Filter::builder().name("group-name").values(name).build();
        let groups = self.runtime.block_on(aws_sdk_ec2::Client::from_conf(config).describe_security_groups().filters(filter).send()).expect("describe security groups");
        groups.security_groups().len()
    }

    /// How many security groups (in any VPC) are called `name`.
    pub fn security_group_count(&self, name: &str) -> usize {
        let filter = Filter::builder().name("group-name").values(name).build();
        let groups = self.runtime.block_on(self.ec2.describe_security_groups().filters(filter).send()).expect("describe security groups");
        groups.security_groups().len()
    }
}

/// Reading what a create left, for tests of authorship (see `strata_provider_sdk::authorship`).
impl Moto {
    /// The value of `parameter` in the parameter group `name`, when it is set.
    pub fn parameter_value(&self, name: &str, parameter: &str) -> Option<String> {
        let found = self.runtime.block_on(self.rds.describe_db_parameters().db_parameter_group_name(name).send()).expect("describe parameters");
        found.parameters().iter().find(|p| p.parameter_name() == Some(parameter)).and_then(|p| p.parameter_value()).map(str::to_owned)
    }

    /// The `strata:intent` tag of the parameter group `name`: the id of the intent whose create made it.
    pub fn parameter_group_intent(&self, name: &str) -> Option<String> {
        let found = self.runtime.block_on(self.rds.describe_db_parameter_groups().db_parameter_group_name(name).send()).ok()?;
        let arn = found.db_parameter_groups().first()?.db_parameter_group_arn()?.to_owned();
        self.rds_intent(&arn)
    }

    /// The `strata:intent` tag of the RDS object at `arn`.
    pub fn rds_intent(&self, arn: &str) -> Option<String> {
        let tags = self.runtime.block_on(self.rds.list_tags_for_resource().resource_name(arn).send()).expect("list tags");
        tags.tag_list().iter().find(|t| t.key() == Some("strata:intent")).and_then(|t| t.value()).map(str::to_owned)
    }

    /// The `strata:intent` tags of the security groups called `name`, one entry per group.
    pub fn security_group_intents(&self, name: &str) -> Vec<Option<String>> {
        let filter = Filter::builder().name("group-name").values(name).build();
        let groups = self.runtime.block_on(self.ec2.describe_security_groups().filters(filter).send()).expect("describe security groups");
        let intent = |group: &aws_sdk_ec2::types::SecurityGroup| group.tags().iter().find(|t| t.key() == Some("strata:intent")).and_then(|t| t.value()).map(str::to_owned);
        groups.security_groups().iter().map(intent).collect()
    }

    pub fn delete_parameter_group(&self, name: &str) {
        self.runtime.block_on(self.rds.delete_db_parameter_group().db_parameter_group_name(name).send()).expect("delete parameter group");
    }
}

impl Moto {
    /// The `strata:intent` tag of the subnet group `name`.
    pub fn subnet_group_intent(&self, name: &str) -> Option<String> {
        let found = self.runtime.block_on(self.rds.describe_db_subnet_groups().db_subnet_group_name(name).send()).ok()?;
        let arn = found.db_subnet_groups().first()?.db_subnet_group_arn()?.to_owned();
        self.rds_intent(&arn)
    }

    /// The `strata:intent` tag of the instance `identifier`.
    pub fn instance_intent(&self, identifier: &str) -> Option<String> {
        let arn = self.instance(identifier)?.db_instance_arn()?.to_owned();
        self.rds_intent(&arn)
    }
}

/// AWS Backup objects, read as strata's tests check them.
impl Moto {
    /// The vault `name` and its tags (the authorship tag included), or `None` when there is none.
    pub fn backup_vault(&self, name: &str) -> Option<(aws_sdk_backup::types::BackupVaultListMember, std::collections::HashMap<String, String>)> {
        let vaults = self.runtime.block_on(self.backup.list_backup_vaults().send()).expect("list backup vaults");
        let vault = vaults.backup_vault_list().iter().find(|v| v.backup_vault_name() == Some(name))?.clone();
        let tags = self.backup_tags(vault.backup_vault_arn().unwrap_or_default());
        Some((vault, tags))
    }

    /// The live (not deleted) backup plan called `name`, its rules and its tags.
    pub fn backup_plan(&self, name: &str) -> Option<(aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput, std::collections::HashMap<String, String>)> {
        let plans = self.runtime.block_on(self.backup.list_backup_plans().send()).expect("list backup plans");
        let id = plans.backup_plans_list().iter().find(|p| p.backup_plan_name() == Some(name))?.backup_plan_id()?.to_owned();
        let plan = self.runtime.block_on(self.backup.get_backup_plan().backup_plan_id(id).send()).expect("get backup plan");
        let tags = self.backup_tags(plan.backup_plan_arn().unwrap_or_default());
        Some((plan, tags))
    }

    /// A vault made behind strata's back.
    pub fn create_backup_vault(&self, name: &str) {
        self.runtime.block_on(self.backup.create_backup_vault().backup_vault_name(name).send()).expect("create backup vault");
    }

    /// A plan made behind strata's back: one daily rule into `vault`, with the windows set; answers its id.
    pub fn create_backup_plan(&self, name: &str, vault: &str) -> String {
        use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput};
        let rule = BackupRuleInput::builder().rule_name("daily").target_backup_vault_name(vault).schedule_expression("cron(0 5 ? * * *)").start_window_minutes(60).completion_window_minutes(180);
        let plan = BackupPlanInput::builder().backup_plan_name(name).rules(rule.build().expect("a rule")).build().expect("a plan");
        let created = self.runtime.block_on(self.backup.create_backup_plan().backup_plan(plan).send()).expect("create backup plan");
        created.backup_plan_id().expect("a plan id").to_owned()
    }

    fn backup_tags(&self, arn: &str) -> std::collections::HashMap<String, String> {
        let tags = self.runtime.block_on(self.backup.list_tags().resource_arn(arn).send()).expect("list backup tags");
        tags.tags().cloned().unwrap_or_default()
    }
}

/// Snapshots in other regions, for copies across regions.
impl Moto {
    fn rds_in(&self, region: &str) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::from_conf(self.rds.config().to_builder().region(aws_sdk_rds::config::Region::new(region.to_owned())).build())
    }

    pub fn snapshot_exists_in(&self, region: &str, snapshot: &str) -> bool {
        let found = self.runtime.block_on(self.rds_in(region).describe_db_snapshots().db_snapshot_identifier(snapshot).send());
        found.is_ok_and(|out| !out.db_snapshots().is_empty())
    }

    /// Copies the us-east-1 snapshot `source` to `region` as `target`, behind strata's back.
    pub fn copy_snapshot_to(&self, region: &str, source: &str, target: &str) {
        let found = self.runtime.block_on(self.rds.describe_db_snapshots().db_snapshot_identifier(source).send()).expect("describe the source snapshot");
        let arn = found.db_snapshots().first().and_then(|s| s.db_snapshot_arn()).expect("the source snapshot's ARN").to_owned();
        let copy = self.rds_in(region).copy_db_snapshot().source_db_snapshot_identifier(arn).target_db_snapshot_identifier(target);
        self.runtime.block_on(copy.send()).expect("copy snapshot");
    }
}
