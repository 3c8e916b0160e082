//! The moto AWS emulator the tests run against: `scripts/test.sh` starts it and exports
//! `STRATA_MOTO_URL` and the `AWS_*` variables, which every `strata` the tests start inherits.
//! Tests read what strata did through the AWS SDK, and use names of their own so that they can
//! run in parallel against one server.

use aws_sdk_ec2::types::Filter;
use aws_sdk_rds::types::DbInstance;

pub struct Moto {
    runtime: tokio::runtime::Runtime,
    rds: aws_sdk_rds::Client,
    ec2: aws_sdk_ec2::Client,
}

impl Moto {
    pub fn new() -> Moto {
        let url = std::env::var("STRATA_MOTO_URL").unwrap_or_else(|_| {
            panic!(
                "\n\nmoto is not running: run scripts/test.sh (it starts moto), or start one with: \
                 source scripts/services.sh && ensure_moto\n\n"
            )
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let config = runtime.block_on(aws_config::from_env().endpoint_url(&url).region(aws_config::Region::new("us-east-1")).load());
        Moto { rds: aws_sdk_rds::Client::new(&config), ec2: aws_sdk_ec2::Client::new(&config), runtime }
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
}

/// A short name part unique to this test run, for AWS names (letters, digits and hyphens).
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}
