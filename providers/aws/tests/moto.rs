//! The AWS provider against the moto emulator, driven through the `Provider` trait the way the
//! engine drives it: plan, then apply the planned value; refresh, then plan again.
//!
//! Needs a moto at `STRATA_MOTO_URL` (scripts/test.sh starts one). Every object gets a unique
//! name, so the tests run in parallel against one emulator.

use std::sync::atomic::{AtomicU32, Ordering};

use strata_provider_aws::AwsProvider;
use strata_provider_sdk::{
    authorship::MarkRecorded, Action, ApplyRequest, Authorship, Nesting, PlanRequest, PlannedChange, Proof, Provider, RefreshRequest, Value,
};

const PASSWORD: &str = "Sup3r-s3cret-pw";

#[path = "../../../tests/common/loopback.rs"]
mod loopback;

/// moto's endpoint; refuses anything not on loopback, so no test here can reach real AWS.
fn moto_url() -> String {
    let url = std::env::var("STRATA_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("moto is not running: run scripts/test.sh (it starts moto), or start one with: source scripts/services.sh && ensure_moto"));
    loopback::assert_loopback("STRATA_MOTO_URL", &url)
}

async fn provider() -> AwsProvider {
    let url = moto_url();
    let provider = AwsProvider::new();
    let config = Value::object([
        (
            "region",
            Value::from(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())),
        ),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        (
            "endpoints",
            Value::object([
                ("rds", Value::from(url.as_str())),
                ("ec2", Value::from(url.as_str())),
            ]),
        ),
    ]);
    provider
        .configure(&config)
        .await
        .unwrap_or_else(|e| panic!("configure: {e}"));
    provider
}

/// A name no other test (or earlier run against the same moto) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// `partial` as the engine hands it over: every declared attribute present, unset ones null,
/// list blocks as lists.
fn conform(provider: &AwsProvider, type_name: &str, partial: Value) -> Value {
    let block = &provider.schema().resources[type_name].block;
    conform_block(block, partial)
}

fn conform_block(block: &strata_provider_sdk::Block, partial: Value) -> Value {
    let mut value = partial;
    for name in block.attributes.keys() {
        if value.get(name).is_none() {
            value.set(name, Value::Null);
        }
    }
    for (name, nested) in &block.blocks {
        let conformed = match (nested.nesting, value.get(name).cloned()) {
            (Nesting::List, Some(Value::List(items))) => Value::List(
                items
                    .into_iter()
                    .map(|i| conform_block(&nested.block, i))
                    .collect(),
            ),
            (Nesting::List, _) => Value::List(vec![]),
            (Nesting::Single, Some(v @ Value::Object(_))) => conform_block(&nested.block, v),
            (Nesting::Single, _) => Value::Null,
        };
        value.set(name, conformed);
    }
    value
}

async fn plan(
    provider: &AwsProvider,
    type_name: &str,
    prior: Option<&Value>,
    desired: &Value,
) -> PlannedChange {
    let request = PlanRequest {
        type_name: type_name.into(),
        prior: prior.cloned(),
        desired: desired.clone(),
    };
    provider
        .plan(&request)
        .await
        .unwrap_or_else(|e| panic!("plan {type_name}: {e}"))
}

/// Plans and applies; returns the new state.
async fn apply(
    provider: &AwsProvider,
    type_name: &str,
    prior: Option<&Value>,
    desired: &Value,
    expect: Action,
) -> Value {
    let change = plan(provider, type_name, prior, desired).await;
    assert_eq!(change.action, expect, "{change:?}");
    let request = ApplyRequest {
        type_name: type_name.into(),
        action: change.action,
        prior: prior.cloned(),
        planned: change.planned,
        authorship: None,
        declared: vec![],
        progress: Default::default(),
    };
    provider
        .apply(&request)
        .await
        .unwrap_or_else(|e| panic!("apply {type_name}: {}", e.error))
}

/// The plan of `desired` against the refreshed `live` object is no change.
async fn assert_no_change(provider: &AwsProvider, type_name: &str, live: &Value, desired: &Value) {
    let change = plan(provider, type_name, Some(live), desired).await;
    assert_eq!(
        change.action,
        Action::NoOp,
        "{type_name}: {change:?}\nlive: {live:?}"
    );
}

async fn refresh(provider: &AwsProvider, type_name: &str, states: &[&Value]) -> Vec<Option<Value>> {
    let requests: Vec<RefreshRequest> = states
        .iter()
        .map(|s| RefreshRequest {
            type_name: type_name.into(),
            state: (*s).clone(),
        })
        .collect();
    provider
        .refresh(&requests)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e}"))
}

async fn refresh_one(provider: &AwsProvider, type_name: &str, state: &Value) -> Option<Value> {
    refresh(provider, type_name, &[state])
        .await
        .into_iter()
        .next()
        .flatten()
}

async fn delete(provider: &AwsProvider, type_name: &str, prior: &Value) {
    let request = ApplyRequest {
        type_name: type_name.into(),
        action: Action::Delete,
        prior: Some(prior.clone()),
        planned: Value::Null,
        authorship: None,
        declared: vec![],
        progress: Default::default(),
    };
    provider
        .apply(&request)
        .await
        .unwrap_or_else(|e| panic!("delete {type_name}: {}", e.error));
}

fn calls(provider: &AwsProvider, operation: &str) -> u64 {
    provider
        .call_counts()
        .into_iter()
        .find(|(name, _)| name == operation)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

fn instance(provider: &AwsProvider, id: &str, edits: &[(&str, Value)]) -> Value {
    let mut value = Value::object([
        ("identifier", Value::from(id)),
        ("engine", Value::from("postgres")),
        ("engine_version", Value::from("14.10")),
        ("instance_class", Value::from("db.t3.micro")),
        ("allocated_storage", Value::int(20)),
        ("username", Value::from("platform_admin")),
        ("password", Value::from(PASSWORD)),
        ("db_name", Value::from("app")),
        ("skip_final_snapshot", Value::Bool(true)),
        ("apply_immediately", Value::Bool(true)),
        (
            "tags",
            Value::object([("Project", Value::from("strata-test"))]),
        ),
    ]);
    for (key, edit) in edits {
        value.set(key, edit.clone());
    }
    conform(provider, "aws_db_instance", value)
}

fn assert_no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "the password leaked into {what}: {text}"
    );
}

#[tokio::test]
async fn instance_lifecycle_plans_updates_replacements_and_refusals() {
    let p = provider().await;
    let id = unique("db");
    let desired = instance(&p, &id, &[]);
    let create = plan(&p, "aws_db_instance", None, &desired).await;
    assert_no_password("the create plan", &format!("{create:?}"));
    let state = apply(&p, "aws_db_instance", None, &desired, Action::Create).await;
    assert_eq!(state.get_str("status"), Some("available"));
    assert_eq!(
        state.get_str("endpoint").map(|e| e.ends_with(":5432")),
        Some(true)
    );

    let live = refresh_one(&p, "aws_db_instance", &state)
        .await
        .expect("the instance exists");
    assert_no_change(&p, "aws_db_instance", &live, &desired).await;

    // A version prefix matches the running version.
    let prefix = plan(
        &p,
        "aws_db_instance",
        Some(&live),
        &instance(&p, &id, &[("engine_version", Value::from("14"))]),
    )
    .await;
    assert_eq!(prefix.action, Action::NoOp);

    let bigger = plan(
        &p,
        "aws_db_instance",
        Some(&live),
        &instance(&p, &id, &[("instance_class", Value::from("db.t3.small"))]),
    )
    .await;
    assert_eq!(bigger.action, Action::Update);
    assert!(
        bigger
            .operations
            .iter()
            .any(|o| o
                == &format!("ModifyDBInstance {id}: DBInstanceClass db.t3.micro -> db.t3.small")),
        "{:?}",
        bigger.operations
    );

    let renamed_db = plan(
        &p,
        "aws_db_instance",
        Some(&live),
        &instance(&p, &id, &[("db_name", Value::from("other"))]),
    )
    .await;
    assert_eq!(renamed_db.action, Action::Replace);
    assert_eq!(renamed_db.replace_because, vec!["db_name".to_owned()]);

    let major = PlanRequest {
        type_name: "aws_db_instance".into(),
        prior: Some(live.clone()),
        desired: instance(&p, &id, &[("engine_version", Value::from("15.4"))]),
    };
    let refused = p
        .plan(&major)
        .await
        .expect_err("a major upgrade without the flag is refused");
    assert!(
        refused
            .to_string()
            .contains("allow_major_version_upgrade = true"),
        "{refused}"
    );
    let allowed = plan(
        &p,
        "aws_db_instance",
        Some(&live),
        &instance(
            &p,
            &id,
            &[
                ("engine_version", Value::from("15.4")),
                ("allow_major_version_upgrade", Value::Bool(true)),
            ],
        ),
    )
    .await;
    assert_eq!(allowed.action, Action::Update);

    // A new password is an in-place change that never shows.
    let new_password = "An0ther-s3cret-pw";
    let with_new = instance(&p, &id, &[("password", Value::from(new_password))]);
    let change = plan(&p, "aws_db_instance", Some(&live), &with_new).await;
    assert_eq!(change.action, Action::Update);
    let text = format!("{change:?}");
    assert!(
        !text.contains(new_password) && !text.contains(PASSWORD),
        "{text}"
    );
    let changed = apply(
        &p,
        "aws_db_instance",
        Some(&live),
        &with_new,
        Action::Update,
    )
    .await;
    let live = refresh_one(&p, "aws_db_instance", &changed)
        .await
        .expect("still there");
    assert_no_change(&p, "aws_db_instance", &live, &with_new).await;

    // Creating it again is refused by AWS, with a hint and without the password.
    let again = ApplyRequest {
        type_name: "aws_db_instance".into(),
        action: Action::Create,
        prior: None,
        planned: create.planned.clone(),
        authorship: None,
        declared: vec![],
        progress: Default::default(),
    };
    let failure = p.apply(&again).await.expect_err("the identifier is taken");
    let message = failure.error.to_string();
    assert!(
        message.contains("DBInstanceAlreadyExists") && failure.error.hint.is_some(),
        "{message}"
    );
    assert_no_password("an error", &message);

    let deletion = p
        .plan_delete("aws_db_instance", &live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        deletion.operations[0].contains("no final snapshot"),
        "{:?}",
        deletion.operations
    );
    delete(&p, "aws_db_instance", &live).await;
    assert!(refresh_one(&p, "aws_db_instance", &live).await.is_none());
}

#[tokio::test]
async fn every_attribute_that_forces_an_instance_replacement_plans_a_replace_naming_it() {
    // A new value for each attribute the schema marks force_new; the list must cover all of them.
    let changed: [(&str, Value); 7] = [
        ("engine", Value::from("mysql")),
        ("region", Value::from("us-west-2")),
        ("username", Value::from("other_admin")),
        ("db_name", Value::from("other")),
        ("storage_encrypted", Value::Bool(true)),
        ("kms_key_id", Value::from("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")),
        ("availability_zone", Value::from("us-east-1f")),
    ];
    let p = provider().await;
    let schema = &p.schema().resources["aws_db_instance"].block;
    let mut forcing: Vec<&str> = schema.attributes.iter().filter(|(_, a)| a.force_new).map(|(name, _)| *name).collect();
    let mut covered: Vec<&str> = changed.iter().map(|(name, _)| *name).collect();
    forcing.sort();
    covered.sort();
    assert_eq!(covered, forcing, "each force_new attribute of aws_db_instance needs a case here");

    let id = unique("db-forces");
    let desired = instance(&p, &id, &[]);
    let state = apply(&p, "aws_db_instance", None, &desired, Action::Create).await;
    let live = refresh_one(&p, "aws_db_instance", &state).await.expect("the instance exists");
    for (attribute, value) in changed {
        assert_ne!(live.get(attribute), Some(&value), "{attribute} must differ from the live value");
        let change = plan(&p, "aws_db_instance", Some(&live), &instance(&p, &id, &[(attribute, value)])).await;
        assert_eq!(change.action, Action::Replace, "{attribute}: {change:?}");
        assert_eq!(change.replace_because, [attribute.to_owned()], "{attribute}: {change:?}");
    }
    delete(&p, "aws_db_instance", &state).await;
}

#[tokio::test]
async fn renaming_an_instance_is_an_in_place_update() {
    let p = provider().await;
    let (old, new) = (unique("db-old"), unique("db-new"));
    let state = apply(
        &p,
        "aws_db_instance",
        None,
        &instance(&p, &old, &[]),
        Action::Create,
    )
    .await;
    // A later run: a fresh provider, as `strata apply` after an earlier `strata apply`.
    let p = provider().await;
    let live = refresh_one(&p, "aws_db_instance", &state)
        .await
        .expect("created");
    let renamed = instance(&p, &new, &[("instance_class", Value::from("db.t3.small"))]);
    let change = plan(&p, "aws_db_instance", Some(&live), &renamed).await;
    assert_eq!(change.action, Action::Update, "{change:?}");
    assert!(change.replace_because.is_empty());
    assert!(
        change.operations[0].contains(&format!("NewDBInstanceIdentifier {old} -> {new}")),
        "{:?}",
        change.operations
    );
    let state = apply(&p, "aws_db_instance", Some(&live), &renamed, Action::Update).await;
    assert_eq!(state.get_str("identifier"), Some(new.as_str()));
    assert_eq!(state.get_str("instance_class"), Some("db.t3.small"));
    assert!(
        refresh_one(&p, "aws_db_instance", &live).await.is_none(),
        "the old identifier is gone"
    );
    let live = refresh_one(&p, "aws_db_instance", &state)
        .await
        .expect("the new identifier exists");
    assert_no_change(&p, "aws_db_instance", &live, &renamed).await;
    delete(&p, "aws_db_instance", &live).await;
}

#[tokio::test]
async fn deleting_without_skip_final_snapshot_takes_the_planned_snapshot() {
    let p = provider().await;
    let id = unique("db-snap");
    let state = apply(
        &p,
        "aws_db_instance",
        None,
        &instance(&p, &id, &[("skip_final_snapshot", Value::Bool(false))]),
        Action::Create,
    )
    .await;
    let live = refresh_one(&p, "aws_db_instance", &state)
        .await
        .expect("created");
    let deletion = p
        .plan_delete("aws_db_instance", &live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let line = &deletion.operations[0];
    let snapshot = line
        .split("final snapshot ")
        .nth(1)
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no snapshot in {line}"))
        .to_owned();
    assert!(snapshot.starts_with(&format!("{id}-final-")), "{snapshot}");
    delete(&p, "aws_db_instance", &live).await;

    let rds = rds_client().await;
    let snapshots = rds
        .describe_db_snapshots()
        .db_snapshot_identifier(&snapshot)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        snapshots.db_snapshots().len(),
        1,
        "moto has the final snapshot {snapshot}"
    );

    // Deletion protection is refused at plan time.
    let mut protected = live.clone();
    protected.set("deletion_protection", Value::Bool(true));
    let refused = p
        .plan_delete("aws_db_instance", &protected)
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("deletion_protection = false"),
        "{refused}"
    );
}

async fn rds_client() -> aws_sdk_rds::Client {
    let config = aws_sdk_rds::Config::builder()
        .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
        .region(aws_sdk_rds::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_rds::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .endpoint_url(moto_url())
        .build();
    aws_sdk_rds::Client::from_conf(config)
}

fn parameter(name: &str, value: &str, apply_method: Option<&str>) -> Value {
    Value::object([
        ("name", Value::from(name)),
        ("value", Value::from(value)),
        (
            "apply_method",
            apply_method.map(Value::from).unwrap_or_default(),
        ),
    ])
}

#[tokio::test]
async fn parameter_group_plans_no_change_after_apply() {
    let p = provider().await;
    let name = unique("pg");
    let group = |params: Vec<Value>| {
        let value = Value::object([
            ("name", Value::from(name.as_str())),
            ("family", Value::from("postgres16")),
            ("parameter", Value::List(params)),
            (
                "tags",
                Value::object([("Project", Value::from("strata-test"))]),
            ),
        ]);
        conform(&p, "aws_db_parameter_group", value)
    };
    let desired = group(vec![
        parameter("work_mem", "65536", None),
        parameter(
            "shared_preload_libraries",
            "pg_stat_statements",
            Some("pending-reboot"),
        ),
    ]);
    let state = apply(&p, "aws_db_parameter_group", None, &desired, Action::Create).await;
    let live = refresh_one(&p, "aws_db_parameter_group", &state)
        .await
        .expect("created");
    assert_no_change(&p, "aws_db_parameter_group", &live, &desired).await;

    let changed = group(vec![
        parameter("work_mem", "131072", None),
        parameter(
            "shared_preload_libraries",
            "pg_stat_statements",
            Some("pending-reboot"),
        ),
    ]);
    let change = plan(&p, "aws_db_parameter_group", Some(&live), &changed).await;
    assert_eq!(
        change.operations,
        vec![format!(
            "ModifyDBParameterGroup {name}: work_mem = 131072 (immediate)"
        )]
    );
    let state = apply(
        &p,
        "aws_db_parameter_group",
        Some(&live),
        &changed,
        Action::Update,
    )
    .await;
    let live = refresh_one(&p, "aws_db_parameter_group", &state)
        .await
        .expect("still there");
    assert_no_change(&p, "aws_db_parameter_group", &live, &changed).await;

    let renamed = plan(
        &p,
        "aws_db_parameter_group",
        Some(&live),
        &conform(&p, "aws_db_parameter_group", {
            let mut v = changed.clone();
            v.set("family", Value::from("postgres15"));
            v
        }),
    )
    .await;
    assert_eq!(renamed.replace_because, vec!["family".to_owned()]);
    delete(&p, "aws_db_parameter_group", &live).await;
    assert!(refresh_one(&p, "aws_db_parameter_group", &live)
        .await
        .is_none());
}

fn rule(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
    Value::object([
        ("protocol", Value::from(protocol)),
        ("from_port", Value::int(from)),
        ("to_port", Value::int(to)),
        (
            "cidr_blocks",
            Value::List(cidrs.iter().map(|c| Value::from(*c)).collect()),
        ),
    ])
}

fn security_group(p: &AwsProvider, name: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    let value = Value::object([
        ("name", Value::from(name)),
        ("ingress", Value::List(ingress)),
        ("egress", Value::List(egress)),
        ("tags", Value::object([("Name", Value::from(name))])),
    ]);
    conform(p, "aws_security_group", value)
}

#[tokio::test]
async fn security_group_rules_plan_as_sets() {
    let p = provider().await;
    let name = unique("sg");
    let allow_all = rule("-1", 0, 0, &["0.0.0.0/0"]);
    let desired = security_group(
        &p,
        &name,
        vec![
            rule("tcp", 5432, 5432, &["10.0.0.0/8", "192.168.0.0/16"]),
            rule("tcp", 22, 22, &["10.1.0.0/16"]),
        ],
        vec![allow_all.clone()],
    );
    let create = plan(&p, "aws_security_group", None, &desired).await;
    assert!(
        !create.operations.iter().any(|o| o.contains("Egress")),
        "AWS's default egress is neither revoked nor authorized: {:?}",
        create.operations
    );
    let state = apply(&p, "aws_security_group", None, &desired, Action::Create).await;
    let live = refresh_one(&p, "aws_security_group", &state)
        .await
        .expect("created");
    assert_no_change(&p, "aws_security_group", &live, &desired).await;

    // Removing one CIDR of a rule and a whole rule: in place, by revoking.
    let fewer = security_group(
        &p,
        &name,
        vec![rule("tcp", 5432, 5432, &["10.0.0.0/8"])],
        vec![allow_all.clone()],
    );
    let change = plan(&p, "aws_security_group", Some(&live), &fewer).await;
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.operations.len(), 1, "{:?}", change.operations);
    assert!(
        change.operations[0].starts_with("RevokeSecurityGroupIngress"),
        "{:?}",
        change.operations
    );
    let state = apply(
        &p,
        "aws_security_group",
        Some(&live),
        &fewer,
        Action::Update,
    )
    .await;
    let live = refresh_one(&p, "aws_security_group", &state)
        .await
        .expect("still there");
    let ingress = live.get_list("ingress");
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(
        ingress[0].get_strings("cidr_blocks"),
        vec!["10.0.0.0/8".to_owned()]
    );
    assert_no_change(&p, "aws_security_group", &live, &fewer).await;

    // Egress listed without the default: the default is revoked.
    let narrow = security_group(
        &p,
        &name,
        vec![rule("tcp", 5432, 5432, &["10.0.0.0/8"])],
        vec![rule("tcp", 443, 443, &["0.0.0.0/0"])],
    );
    let change = plan(&p, "aws_security_group", Some(&live), &narrow).await;
    assert!(
        change
            .operations
            .iter()
            .any(|o| o.starts_with("RevokeSecurityGroupEgress")
                && o.contains("all traffic 0.0.0.0/0")),
        "{:?}",
        change.operations
    );
    let state = apply(
        &p,
        "aws_security_group",
        Some(&live),
        &narrow,
        Action::Update,
    )
    .await;
    let live = refresh_one(&p, "aws_security_group", &state)
        .await
        .expect("still there");
    assert_no_change(&p, "aws_security_group", &live, &narrow).await;

    delete(&p, "aws_security_group", &live).await;
    assert!(refresh_one(&p, "aws_security_group", &live).await.is_none());
}

#[tokio::test]
async fn security_group_without_egress_blocks_leaves_egress_alone() {
    let p = provider().await;
    let desired = security_group(
        &p,
        &unique("sg-noegress"),
        vec![rule("all", -1, -1, &["10.0.0.0/8"])],
        vec![],
    );
    let state = apply(&p, "aws_security_group", None, &desired, Action::Create).await;
    let live = refresh_one(&p, "aws_security_group", &state)
        .await
        .expect("created");
    assert!(live.get_list("egress").is_empty());
    assert_no_change(&p, "aws_security_group", &live, &desired).await;
    delete(&p, "aws_security_group", &live).await;
}

#[tokio::test]
async fn data_sources_and_subnet_group() {
    let p = provider().await;
    let vpc = p
        .read_data("aws_vpc", &Value::object([("default", Value::Bool(true))]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let vpc_id = vpc.get_str("id").expect("a default VPC").to_owned();
    assert!(vpc.get_str("cidr_block").is_some());
    let missing = p
        .read_data(
            "aws_vpc",
            &Value::object([("id", Value::from("vpc-00000000000000000"))]),
        )
        .await;
    assert!(missing.is_err_and(|e| e.message.contains("no VPC")));

    let filter = Value::object([
        ("name", Value::from("vpc-id")),
        ("values", Value::List(vec![Value::from(vpc_id.as_str())])),
    ]);
    let subnets = p
        .read_data(
            "aws_subnets",
            &Value::object([("filter", Value::List(vec![filter]))]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ids = subnets.get_strings("ids");
    assert!(ids.len() >= 2, "{ids:?}");

    let name = unique("Subnets");
    let desired = conform(
        &p,
        "aws_db_subnet_group",
        Value::object([
            ("name", Value::from(name.as_str())),
            (
                "subnet_ids",
                Value::List(
                    ids.iter()
                        .rev()
                        .take(2)
                        .map(|s| Value::from(s.as_str()))
                        .collect(),
                ),
            ),
        ]),
    );
    let state = apply(&p, "aws_db_subnet_group", None, &desired, Action::Create).await;
    assert_eq!(state.get_str("vpc_id"), Some(vpc_id.as_str()));
    let live = refresh_one(&p, "aws_db_subnet_group", &state)
        .await
        .expect("created (its name lower-cased by RDS)");
    assert_no_change(&p, "aws_db_subnet_group", &live, &desired).await;
    let mut fewer = desired.clone();
    fewer.set(
        "subnet_ids",
        Value::List(
            ids.iter()
                .take(3)
                .map(|s| Value::from(s.as_str()))
                .collect(),
        ),
    );
    // Plan only: moto 5.2's ModifyDBSubnetGroup drops the group from its store (it pops it and
    // never puts it back), so applying this would make the group vanish.
    let change = plan(&p, "aws_db_subnet_group", Some(&live), &fewer).await;
    assert_eq!(change.action, Action::Update);
    assert!(
        change.operations[0].starts_with(&format!("ModifyDBSubnetGroup {name}: subnet_ids")),
        "{:?}",
        change.operations
    );
    delete(&p, "aws_db_subnet_group", &live).await;
    assert!(refresh_one(&p, "aws_db_subnet_group", &live)
        .await
        .is_none());
}

#[tokio::test]
async fn refresh_costs_one_describe_per_type() {
    let p = provider().await;
    let mut instances = Vec::new();
    let mut groups = Vec::new();
    let mut security_groups = Vec::new();
    for _ in 0..3 {
        instances.push(
            apply(
                &p,
                "aws_db_instance",
                None,
                &instance(&p, &unique("db-batch"), &[]),
                Action::Create,
            )
            .await,
        );
        let group = conform(
            &p,
            "aws_db_parameter_group",
            Value::object([
                ("name", Value::from(unique("pg-batch"))),
                ("family", Value::from("postgres14")),
            ]),
        );
        groups.push(apply(&p, "aws_db_parameter_group", None, &group, Action::Create).await);
        security_groups.push(
            apply(
                &p,
                "aws_security_group",
                None,
                &security_group(&p, &unique("sg-batch"), vec![], vec![]),
                Action::Create,
            )
            .await,
        );
    }
    let mut requests = Vec::new();
    for (type_name, states) in [
        ("aws_db_instance", &instances),
        ("aws_db_parameter_group", &groups),
        ("aws_security_group", &security_groups),
    ] {
        requests.extend(states.iter().map(|s| RefreshRequest {
            type_name: type_name.into(),
            state: s.clone(),
        }));
    }
    let counting = provider().await;
    let answers = counting
        .refresh(&requests)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(answers.iter().all(Option::is_some));
    assert_eq!(
        calls(&counting, "rds:DescribeDBInstances"),
        1,
        "{:?}",
        counting.call_counts()
    );
    assert_eq!(
        calls(&counting, "ec2:DescribeSecurityGroups"),
        1,
        "{:?}",
        counting.call_counts()
    );
    assert_eq!(
        calls(&counting, "rds:DescribeDBParameterGroups"),
        1,
        "{:?}",
        counting.call_counts()
    );
    for state in &instances {
        delete(&p, "aws_db_instance", state).await;
    }
    for state in &groups {
        delete(&p, "aws_db_parameter_group", state).await;
    }
    for state in &security_groups {
        delete(&p, "aws_security_group", state).await;
    }
}

/// Past one page: 101 objects of each type are all found and matched by refresh. RDS answers 100
/// per page (moto too), so each RDS Describe takes exactly two pages; EC2's pages hold 1,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_finds_every_object_past_one_page() {
    const COUNT: usize = 101;
    let p = std::sync::Arc::new(provider().await);
    let mut creates = tokio::task::JoinSet::new();
    for _ in 0..COUNT {
        let p = p.clone();
        creates.spawn(async move {
            let instance = instance(&p, &unique("db-page"), &[]);
            let group = Value::object([("name", Value::from(unique("pg-page"))), ("family", Value::from("postgres14"))]);
            let group = conform(&p, "aws_db_parameter_group", group);
            let sg = security_group(&p, &unique("sg-page"), vec![], vec![]);
            let created = [
                ("aws_db_instance", apply(&p, "aws_db_instance", None, &instance, Action::Create).await),
                ("aws_db_parameter_group", apply(&p, "aws_db_parameter_group", None, &group, Action::Create).await),
                ("aws_security_group", apply(&p, "aws_security_group", None, &sg, Action::Create).await),
            ];
            created
        });
    }
    let mut states = Vec::new();
    while let Some(done) = creates.join_next().await {
        let created = done.expect("a create task");
        states.extend(created);
    }
    let requests: Vec<RefreshRequest> = states
        .iter()
        .map(|(type_name, state)| RefreshRequest { type_name: (*type_name).into(), state: state.clone() })
        .collect();
    let counting = provider().await;
    let answers = counting.refresh(&requests).await.unwrap_or_else(|e| panic!("{e}"));
    for ((type_name, state), live) in states.iter().zip(&answers) {
        let name = |v: &Value| v.get_str("identifier").or(v.get_str("name")).map(str::to_owned);
        let live = live.as_ref().unwrap_or_else(|| panic!("{type_name} {:?} was not found", name(state)));
        assert_eq!(name(live), name(state), "refresh matched {type_name} to another object");
    }
    for (operation, pages) in [("rds:DescribeDBInstances", 2), ("rds:DescribeDBParameterGroups", 2), ("ec2:DescribeSecurityGroups", 1)] {
        assert_eq!(calls(&counting, operation), pages, "{operation}: {:?}", counting.call_counts());
    }
    for (type_name, state) in &states {
        delete(&p, type_name, state).await;
    }
}

/// The shape of examples/ai-platform: every resource type together, with most arguments set.
#[tokio::test]
async fn platform_estate_plans_no_change_after_apply() {
    let p = provider().await;
    let vpc = p
        .read_data(
            "aws_vpc",
            &Value::object([("id", Value::Null), ("default", Value::Bool(true))]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let vpc_id = vpc.get_str("id").unwrap_or_default().to_owned();
    let cidr = vpc.get_str("cidr_block").unwrap_or_default().to_owned();
    let filter = Value::object([
        ("name", Value::from("vpc-id")),
        ("values", Value::List(vec![Value::from(vpc_id.as_str())])),
    ]);
    let subnets = p
        .read_data(
            "aws_subnets",
            &Value::object([("filter", Value::List(vec![filter]))]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let tags = Value::object([
        ("Project", Value::from("ai-platform")),
        ("Environment", Value::from("test")),
    ]);

    let subnet_group = conform(
        &p,
        "aws_db_subnet_group",
        Value::object([
            ("name", Value::from(unique("ai-platform"))),
            ("description", Value::from("Subnets (test)")),
            (
                "subnet_ids",
                subnets.get("ids").cloned().unwrap_or_default(),
            ),
        ]),
    );
    let mut ingress = rule("tcp", 5432, 5432, &[cidr.as_str()]);
    ingress.set("description", Value::from("PostgreSQL from inside the VPC"));
    let mut sg = security_group(
        &p,
        &unique("ai-platform-db"),
        vec![ingress],
        vec![rule("-1", 0, 0, &["0.0.0.0/0"])],
    );
    sg.set("vpc_id", Value::from(vpc_id.as_str()));
    sg.set("description", Value::from("PostgreSQL access"));
    let pg = conform(
        &p,
        "aws_db_parameter_group",
        Value::object([
            ("name", Value::from(unique("ai-platform-pg16"))),
            ("family", Value::from("postgres16")),
            ("description", Value::from("AI platform")),
            (
                "parameter",
                Value::List(vec![
                    parameter("work_mem", "65536", None),
                    parameter("maintenance_work_mem", "1048576", None),
                    parameter(
                        "shared_preload_libraries",
                        "pg_stat_statements",
                        Some("pending-reboot"),
                    ),
                ]),
            ),
            ("tags", tags.clone()),
        ]),
    );
    let subnet_state = apply(
        &p,
        "aws_db_subnet_group",
        None,
        &subnet_group,
        Action::Create,
    )
    .await;
    let sg_state = apply(&p, "aws_security_group", None, &sg, Action::Create).await;
    let pg_state = apply(&p, "aws_db_parameter_group", None, &pg, Action::Create).await;

    let id = unique("ai-platform");
    let db = instance(
        &p,
        &id,
        &[
            ("engine_version", Value::from("16.3")),
            ("allocated_storage", Value::int(100)),
            ("max_allocated_storage", Value::int(500)),
            ("storage_type", Value::from("gp3")),
            ("storage_encrypted", Value::Bool(true)),
            ("db_name", Value::from("ai_platform")),
            (
                "db_subnet_group_name",
                subnet_state.get("name").cloned().unwrap_or_default(),
            ),
            (
                "vpc_security_group_ids",
                Value::List(vec![sg_state.get("id").cloned().unwrap_or_default()]),
            ),
            (
                "parameter_group_name",
                pg_state.get("name").cloned().unwrap_or_default(),
            ),
            ("publicly_accessible", Value::Bool(false)),
            ("backup_retention_period", Value::int(7)),
            ("backup_window", Value::from("03:00-04:00")),
            ("maintenance_window", Value::from("sun:05:00-sun:06:00")),
            ("skip_final_snapshot", Value::Bool(false)),
            (
                "final_snapshot_identifier",
                Value::from(format!("{id}-final")),
            ),
            ("tags", tags.clone()),
            (
                "timeouts",
                Value::object([
                    ("create", Value::from("60m")),
                    ("update", Value::Null),
                    ("delete", Value::Null),
                ]),
            ),
        ],
    );
    let db_state = apply(&p, "aws_db_instance", None, &db, Action::Create).await;

    for (type_name, state, desired) in [
        ("aws_db_subnet_group", &subnet_state, &subnet_group),
        ("aws_security_group", &sg_state, &sg),
        ("aws_db_parameter_group", &pg_state, &pg),
        ("aws_db_instance", &db_state, &db),
    ] {
        let live = refresh_one(&p, type_name, state)
            .await
            .unwrap_or_else(|| panic!("{type_name} exists"));
        assert_no_change(&p, type_name, &live, desired).await;
    }
    let deletion = p
        .plan_delete("aws_db_instance", &db_state)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        deletion.operations[0],
        format!("DeleteDBInstance {id} (final snapshot {id}-final)")
    );
    delete(&p, "aws_db_instance", &db_state).await;
    delete(&p, "aws_db_parameter_group", &pg_state).await;
    delete(&p, "aws_security_group", &sg_state).await;
    delete(&p, "aws_db_subnet_group", &subnet_state).await;
}

#[tokio::test]
async fn a_null_provider_block_uses_the_standard_environment() {
    moto_url();
    // This test uses the process environment as it is, so it must be the one ensure_moto makes.
    let expected = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    for (key, value) in expected {
        assert_eq!(
            std::env::var(key).ok().as_deref(),
            Some(value),
            "{key} must be {value} (scripts/test.sh and ensure_moto export it)"
        );
    }
    for key in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"] {
        assert!(std::env::var_os(key).is_none(), "{key} must not be set (ensure_moto unsets it)");
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    loopback::assert_loopback("AWS_ENDPOINT_URL", &endpoint);
    for key in ["AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL_EC2"] {
        if let Ok(url) = std::env::var(key) {
            loopback::assert_loopback(key, &url);
        }
    }
    assert!(std::env::var("AWS_REGION").is_ok_and(|v| !v.is_empty()), "AWS_REGION must be set (ensure_moto exports it)");
    let p = AwsProvider::new();
    p.configure(&Value::Null)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let vpc = p
        .read_data("aws_vpc", &Value::object([("default", Value::Bool(true))]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(vpc.get_str("id").is_some_and(|id| id.starts_with("vpc-")));
    assert_eq!(calls(&p, "ec2:DescribeVpcs"), 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_says_where_to_look() {
    let p = AwsProvider::new();
    let config = Value::object([
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        ("max_retries", Value::int(0)),
        (
            "endpoints",
            Value::object([
                ("rds", Value::from("http://127.0.0.1:9")),
                ("ec2", Value::from("http://127.0.0.1:9")),
            ]),
        ),
    ]);
    p.configure(&config).await.unwrap_or_else(|e| panic!("{e}"));
    let state = Value::object([("identifier", Value::from("nowhere"))]);
    let error = p
        .refresh(&[RefreshRequest {
            type_name: "aws_db_instance".into(),
            state,
        }])
        .await
        .expect_err("nothing listens there");
    assert!(
        error.message.starts_with("rds:DescribeDBInstances failed"),
        "{error}"
    );
    assert!(error.hint.is_some_and(|h| h.contains("AWS_ENDPOINT_URL")));
}

/// Plans and applies a create of `desired` as the engine does after recording an intent with id
/// `intent` (none: a create made without one); answers the new state and its adoption id.
async fn create_with_intent(p: &AwsProvider, type_name: &str, desired: &Value, intent: Option<&str>) -> (Value, String) {
    let change = plan(p, type_name, None, desired).await;
    let adoption_id = p.adoption_id(type_name, &change.planned).unwrap_or_else(|| panic!("{type_name} has an adoption id before its create"));
    let authorship = intent.map(|id| Authorship::new(id, |_| -> MarkRecorded { Box::pin(async { Ok(()) }) }));
    let request = ApplyRequest { type_name: type_name.into(), action: Action::Create, prior: None, planned: change.planned, authorship, declared: vec![], progress: Default::default() };
    let state = p.apply(&request).await.unwrap_or_else(|e| panic!("apply {type_name}: {}", e.error));
    (state, adoption_id)
}

async fn authored_by(p: &AwsProvider, type_name: &str, live: &Value, intent: &str) -> bool {
    let proof = Proof { intent_id: intent.to_owned(), marks: vec![] };
    p.authored(type_name, live, &proof).await.unwrap_or_else(|e| panic!("authored {type_name}: {e}"))
}

#[tokio::test]
async fn standalone_rules_are_adopted_only_with_their_intents_mark() {
    let p = provider().await;
    let group = apply(&p, "aws_security_group", None, &security_group(&p, &unique("sg-rules"), vec![], vec![]), Action::Create).await;
    let group_id = group.get_str("id").unwrap_or_default().to_owned();
    let legacy = |port: i64| {
        let value = Value::object([
            ("type", Value::from("ingress")),
            ("security_group_id", Value::from(group_id.as_str())),
            ("protocol", Value::from("tcp")),
            ("from_port", Value::int(port)),
            ("to_port", Value::int(port)),
            ("cidr_blocks", Value::List(vec![Value::from("10.0.0.0/16"), Value::from("10.1.0.0/16")])),
        ]);
        conform(&p, "aws_security_group_rule", value)
    };
    let vpc_rule = conform(
        &p,
        "aws_vpc_security_group_ingress_rule",
        Value::object([
            ("security_group_id", Value::from(group_id.as_str())),
            ("ip_protocol", Value::from("tcp")),
            ("from_port", Value::int(443)),
            ("to_port", Value::int(443)),
            ("cidr_ipv6", Value::from("::/0")),
            ("tags", Value::object([("Name", Value::from("https"))])),
        ]),
    );
    let marked = [("aws_security_group_rule", legacy(5432)), ("aws_vpc_security_group_ingress_rule", vpc_rule)];
    let mut states = Vec::new();
    for (type_name, desired) in marked {
        let (state, adoption_id) = create_with_intent(&p, type_name, &desired, Some("intent-1")).await;
        let found = p.import(type_name, &adoption_id).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("{adoption_id} finds the rule"));
        assert_eq!(found.get("security_group_rule_id"), state.get("security_group_rule_id"), "{type_name}");
        assert!(authored_by(&p, type_name, &found, "intent-1").await, "{type_name} carries its intent's mark");
        assert!(!authored_by(&p, type_name, &found, "intent-2").await, "{type_name} is not another intent's");
        assert!(!found.get("tags").and_then(Value::as_object).is_some_and(|t| t.keys().any(|k| k.starts_with("strata:"))), "the mark is hidden: {found:?}");
        states.push((type_name, state));
    }
    // Rules of the same content made without that intent (by hand, or by another run) are never adopted.
    let (unmarked, adoption_id) = create_with_intent(&p, "aws_security_group_rule", &legacy(6432), None).await;
    let found = p.import("aws_security_group_rule", &adoption_id).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("found"));
    assert!(!authored_by(&p, "aws_security_group_rule", &found, "intent-1").await);
    states.push(("aws_security_group_rule", unmarked));
    for (type_name, state) in states.iter().rev() {
        delete(&p, type_name, state).await;
        assert!(refresh_one(&p, type_name, state).await.is_none(), "{type_name} revoked");
    }
    delete(&p, "aws_security_group", &group).await;
}
