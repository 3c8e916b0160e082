//! Fuzzing what strata reads from users and from disk: `.tf` text through the configuration loader
//! (and on through what `validate` does with it: schemas, variables, graph, evaluation), and stored
//! state bytes through the encryption envelope and the state reader. No input may panic; bad input
//! is a diagnostic.
//!
//! Two ways in: every `cargo test` runs a few hundred proptest cases per target (shrunk on failure),
//! and `scripts/fuzz.sh` runs the ignored `fuzz_budget_*` tests, which fuzz each target for
//! FUZZ_SECONDS and print executions and findings. Inputs are random bytes, seed files with random
//! edits (flips, token inserts, deletions, duplications, truncation) and token soup. Owns only
//! tests: it must not change the code it exercises. A panic it finds is fixed where it happens and
//! its input kept below as a regression test.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::config::{EncryptionSettings, KeySource, Settings};
use crate::context::{Context, LoadOptions};
use crate::diag::Location;
use crate::providers::Providers;
use crate::state::encryption::{self, Encryption};

const CONFIG_SEEDS: [&str; 9] = [
    concat!(
        include_str!("../examples/ai-platform/providers.tf"),
        include_str!("../examples/ai-platform/variables.tf"),
        include_str!("../examples/ai-platform/infrastructure.tf"),
        include_str!("../examples/ai-platform/schema.tf"),
        include_str!("../examples/ai-platform/outputs.tf"),
    ),
    include_str!("../examples/ai-platform/infrastructure.tf"),
    include_str!("../examples/ai-platform/outputs.tf"),
    include_str!("../examples/ai-platform/providers.tf"),
    include_str!("../examples/ai-platform/schema.tf"),
    include_str!("../examples/ai-platform/variables.tf"),
    include_str!("../examples/seed-terraform/main.tf"),
    "strata {\n  state_path = \"s.json\"\n  encryption {\n    key_env = \"STRATA_STATE_KEY\"\n  }\n}\n",
    FUNCTIONS_SEED,
];

/// Every built-in function, an operator of each kind and each template form, with ordinary
/// arguments: number tokens mutated into them reach the edge cases.
const FUNCTIONS_SEED: &str = r#"locals {
  items = ["a", "b", "c"]
  text  = "Hello World"
}
output "f1" { value = format("%s-%03d-%.2f-%v-%q-%-4s|%%", "x", 7, 1.5, local.items, "q", "l") }
output "f2" { value = substr(local.text, 1, 3) }
output "f3" { value = element(local.items, 4) }
output "f4" { value = join(",", split(" ", local.text)) }
output "f5" { value = lookup({ a = 1 }, "a", 0) }
output "f6" { value = merge({ a = 1 }, { b = 2 }) }
output "f7" { value = concat(local.items, ["d"]) }
output "f8" { value = coalesce("", "x") }
output "f9" { value = tonumber("12") + abs(-3) + max(1, 2) + min(3, 4) }
output "f10" { value = jsondecode(jsonencode({ a = [1, 2] })) }
output "f11" { value = distinct(flatten([[1], [1, 2]])) }
output "f12" { value = keys(tomap({ a = 1 })) }
output "f13" { value = replace(title(lower(upper(trimspace(" x ")))), "X", "y") }
output "f14" { value = startswith("abc", "a") && endswith("abc", "c") && contains(local.items, "a") }
output "f15" { value = length(toset(tolist(local.items))) > 1 ? tostring(tobool("true")) : "no" }
output "f16" { value = [for i, v in local.items : "${i}:${v}" if v != "b"] }
output "f17" { value = { for v in local.items : v => upper(v) } }
output "f18" { value = "%{for v in local.items}${v}%{endfor}" }
output "f19" { value = local.items[1] }
output "f20" { value = 7 % 3 + 10 / 4 - -1 }
"#;

const HCL_TOKENS: [&str; 61] = [
    "resource", "data", "variable", "output", "locals", "provider", "strata", "encryption", "terraform", "lifecycle", "\"postgres_table\"",
    "\"t\"", "{", "}", "[", "]", "(", ")", "=", "\"", "${", "%{", "~}", "<<EOF\n", "<<-EOF\n", "\nEOF\n", "var.x", "local.y", "for", "in", ":",
    "=>", "...", "?", ",", "#", "//", "/*", "*/", "\n", "1e999", "-", "!", "null", "depends_on = [x.y]", "\u{FEFF}", "é", "\0",
    "1e20", "-1e20", "99999999999", "-1", "0", "0.5", "\"%999999999999d\"", "\"%.99999999999f\"", "\"\"", "count = ", "for_each = ",
    "count.index", "each.value",
];

const STATE_TOKENS: [&str; 35] = [
    "{", "}", "[", "]", ":", ",", "\"format_version\"", "1", "\"resources\"", "\"address\"", "\"mode\"", "\"managed\"", "\"data\"", "\"type\"",
    "\"name\"", "\"dependencies\"", "\"postgres_table.x\"", "\"data.\"", "\"..\"", "null", "1e309", "-1", "18446744073709551616",
    "\"instances\"", "\"index_key\"", "2", "\"strata_sealed_state\"", "\"kdf\"", "\"argon2id\"", "\"none\"", "\"nonce\"", "\"ciphertext\"", "\"AAAA\"", "\"\\ud800\"", "\"é\"",
];

const STATE_SEED: &str = r#"{
  "format_version": 1,
  "strata_version": "0.1.0",
  "serial": 3,
  "lineage": "5f0c2a64-8f9e-4c55-9d1e-4b1f0f1e2a3b",
  "resources": [
    {
      "address": "postgres_table.users",
      "mode": "managed",
      "type": "postgres_table",
      "name": "users",
      "provider": "postgres",
      "attributes": {"name": "users", "column": [{"name": "id", "type": "bigint"}]},
      "sensitive_attributes": [],
      "dependencies": ["postgres_schema.app", "data.aws_vpc.default"]
    }
  ],
  "outputs": {"table": {"value": "users", "sensitive": false}}
}"#;

/// The fixed test key, as the environment variable `from_settings` reads holds it.
const KEY_VAR: &str = "STRATA_FUZZ_STATE_KEY";
const KEY_HEX: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// One fuzz target: a function that must return for every input.
struct Target {
    name: &'static str,
    run: fn(&[u8]),
    inputs: fn() -> BoxedStrategy<Vec<u8>>,
}

const TARGETS: [Target; 3] = [
    Target { name: "config_loader", run: load_config, inputs: config_inputs },
    Target { name: "config_context", run: load_context, inputs: config_inputs },
    Target { name: "state_reader", run: read_stored_state, inputs: state_inputs },
];

/// Runs `load` on a directory whose one file, main.tf, holds `input`.
fn in_config_dir(input: &[u8], load: impl FnOnce(&Path)) {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory for fuzzing");
    }
    DIR.with(|dir| {
        std::fs::write(dir.path().join("main.tf"), input).expect("write the fuzz input");
        load(dir.path());
    });
}

/// Loads the directory: parsing, block structure, settings.
fn load_config(input: &[u8]) {
    in_config_dir(input, |dir| {
        if let Ok(config) = crate::config::load_dir(dir) {
            let _ = Encryption::from_settings(&config.settings);
        }
    });
}

/// Loads the directory as `validate` does: provider schemas, variables, the graph, then every
/// resource's and output's expressions evaluated with nothing known.
fn load_context(input: &[u8]) {
    in_config_dir(input, |dir| {
        let Ok(ctx) = validate_context(dir) else { return };
        let nothing_known = BTreeMap::new();
        for (address, _) in ctx.config.all_resources() {
            let _ = ctx.desired_for_validation(&address, &nothing_known);
        }
        for output in ctx.config.outputs.values() {
            let _ = ctx.scope(&nothing_known).eval_attr(&output.value);
        }
    });
}

/// Opens `input` as stored state bytes, with and without the key, and reads what comes out the
/// way the engine does (addresses, values, dependencies).
fn read_stored_state(input: &[u8]) {
    for key in [None, Some(test_encryption())] {
        if let Ok(plain) = encryption::open(input, key, "fuzz.state.json") {
            if let Ok(state) = crate::state::store::read_state(&String::from_utf8_lossy(&plain), Path::new("fuzz.state.json")) {
                for instance in state.instances() {
                    let _ = (instance.address(), instance.value(), instance.dependency_addresses());
                }
            }
        }
    }
}

/// The context `validate` starts from, with every provider's schema and no variable values.
fn validate_context(dir: &Path) -> crate::diag::Result<Context> {
    static PROVIDERS: OnceLock<Providers> = OnceLock::new();
    let providers = PROVIDERS.get_or_init(|| {
        Providers::new(crate::provider_factories())
    });
    Context::load(&LoadOptions { dir, variables: &[], state_path: None, require_variables: false }, providers.clone())
}

/// Encryption with the fixed fuzz key, through the same settings path users take.
fn test_encryption() -> &'static Encryption {
    static ENCRYPTION: OnceLock<Encryption> = OnceLock::new();
    ENCRYPTION.get_or_init(|| {
        let location = Location { file: Arc::from(Path::new("fuzz.tf")), line: 1, column: 1 };
        let settings = Settings { encryption: Some(EncryptionSettings { key_source: KeySource::KeyEnv(KEY_VAR.into()), location }), ..Settings::default() };
        Encryption::from_settings_with(&settings, &|_| Ok(KEY_HEX.to_owned())).expect("the fuzz key is valid").expect("encryption is configured")
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, &'static str),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
    /// Replaces one run of digits with an edge-case number.
    Number(usize, &'static str),
}

/// Numbers at the edges: negative, zero, fractions, beyond usize and i64, beyond f64.
const EDGE_NUMBERS: [&str; 10] = ["-1", "0", "0.5", "-0.5", "1e20", "-1e20", "18446744073709551616", "9223372036854775808", "1e999", "99999999999"];

fn edit(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip(at, byte)),
        (any::<usize>(), select(tokens)).prop_map(|(at, token)| Edit::Insert(at, token)),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Edit::Duplicate(at, len)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), select(&EDGE_NUMBERS[..])).prop_map(|(nth, number)| Edit::Number(nth, number)),
    ]
}

fn apply_edits(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for edit in edits {
        let at = |position: usize| position % (bytes.len() + 1);
        let span = |position: usize, len: usize| at(position)..(at(position) + len).min(bytes.len());
        match *edit {
            Edit::Flip(position, byte) if !bytes.is_empty() => {
                let index = position % bytes.len();
                bytes[index] ^= byte;
            }
            Edit::Flip(..) => {}
            Edit::Insert(position, token) => {
                let index = at(position);
                bytes.splice(index..index, token.bytes());
            }
            Edit::Delete(position, len) => {
                bytes.drain(span(position, len));
            }
            Edit::Duplicate(position, len) => {
                let range = span(position, len);
                let copy = bytes[range.clone()].to_vec();
                bytes.splice(range.end..range.end, copy);
            }
            Edit::Truncate(position) => bytes.truncate(at(position)),
            Edit::Number(nth, number) => {
                let runs = digit_runs(&bytes);
                if !runs.is_empty() {
                    let run = runs[nth % runs.len()].clone();
                    bytes.splice(run, number.bytes());
                }
            }
        }
    }
    bytes
}

/// Where the runs of ASCII digits in `bytes` are.
fn digit_runs(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = vec![];
    let mut start = None;
    for (index, byte) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (byte.is_ascii_digit(), start) {
            (true, None) => start = Some(index),
            (false, Some(first)) => {
                runs.push(first..index);
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Random bytes, seeds with random edits, and token soup.
fn inputs(seeds: Vec<Vec<u8>>, tokens: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..256),
        3 => (select(seeds), proptest::collection::vec(edit(tokens), 1..8)).prop_map(|(seed, edits)| apply_edits(&seed, &edits)),
        1 => proptest::collection::vec((select(tokens), select(&[" ", "\n", ""][..])), 0..64)
            .prop_map(|parts| parts.into_iter().flat_map(|(token, gap)| [token, gap]).collect::<String>().into_bytes()),
    ]
    .boxed()
}

fn config_inputs() -> BoxedStrategy<Vec<u8>> {
    inputs(CONFIG_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect(), &HCL_TOKENS)
}

fn state_inputs() -> BoxedStrategy<Vec<u8>> {
    let sealed = test_encryption().seal(STATE_SEED.as_bytes()).expect("seal the seed state");
    inputs(vec![STATE_SEED.as_bytes().to_vec(), sealed], &STATE_TOKENS)
}

fn panics(target: &Target, input: &[u8]) -> bool {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_err()
}

/// The smallest input proptest's shrinking finds that still panics, starting from `tree`'s.
fn shrink(target: &Target, tree: &mut impl ValueTree<Value = Vec<u8>>) -> Vec<u8> {
    let mut smallest = tree.current();
    for _ in 0..2048 {
        let stepped = if panics(target, &tree.current()) {
            smallest = tree.current();
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !stepped {
            break;
        }
    }
    smallest
}

/// What one bounded run found.
struct Report {
    executions: u64,
    findings: Vec<PathBuf>,
}

/// Runs `target` on generated inputs until `budget` is spent; panicking inputs are shrunk and saved.
fn fuzz_for(target: &Target, budget: Duration, findings_dir: &Path) -> Report {
    let strategy = (target.inputs)();
    let mut runner = TestRunner::default();
    let mut report = Report { executions: 0, findings: vec![] };
    let started = Instant::now();
    while started.elapsed() < budget {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else { continue };
        report.executions += 1;
        if panics(target, &tree.current()) {
            let input = shrink(target, &mut tree);
            let path = findings_dir.join(format!("{}-{}.bin", target.name, report.findings.len() + 1));
            std::fs::create_dir_all(findings_dir).and_then(|_| std::fs::write(&path, &input)).expect("save the finding");
            report.findings.push(path);
        }
    }
    report
}

/// The bounded fuzz run behind `scripts/fuzz.sh`: FUZZ_SECONDS per target (default 60), findings
/// saved under FUZZ_FINDINGS_DIR, one line of figures per target.
fn fuzz_budget(target: &Target) {
    let seconds = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60u64);
    let findings_dir = std::env::var_os("FUZZ_FINDINGS_DIR").map_or_else(|| std::env::temp_dir().join("strata-fuzz-findings"), PathBuf::from);
    // Panics are expected findings here; keep their messages out of the figures.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let report = fuzz_for(target, Duration::from_secs(seconds), &findings_dir);
    std::panic::set_hook(previous_hook);
    let rate = report.executions / seconds.max(1);
    println!("fuzz: target={} seconds={seconds} executions={} exec_per_s={rate} findings={}", target.name, report.executions, report.findings.len());
    for path in &report.findings {
        println!("fuzz: finding {}", path.display());
    }
    assert!(report.findings.is_empty(), "{} panicked on {} input(s); see the files above", target.name, report.findings.len());
}

#[test]
#[ignore = "bounded fuzz run: scripts/fuzz.sh"]
fn fuzz_budget_config_loader() {
    fuzz_budget(&TARGETS[0]);
}

#[test]
#[ignore = "bounded fuzz run: scripts/fuzz.sh"]
fn fuzz_budget_config_context() {
    fuzz_budget(&TARGETS[1]);
}

#[test]
#[ignore = "bounded fuzz run: scripts/fuzz.sh"]
fn fuzz_budget_state_reader() {
    fuzz_budget(&TARGETS[2]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn config_loader_never_panics(input in config_inputs()) {
        load_config(&input);
    }

    #[test]
    fn config_context_never_panics(input in config_inputs()) {
        load_context(&input);
    }

    #[test]
    fn state_reader_never_panics(input in state_inputs()) {
        read_stored_state(&input);
    }
}

#[test]
fn the_seeds_load_cleanly() {
    test_encryption();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), CONFIG_SEEDS[7]).expect("write seed");
    let config = crate::config::load_dir(dir.path()).expect("the settings seed loads");
    assert_eq!(config.settings.encryption.map(|e| e.key_source), Some(KeySource::KeyEnv("STRATA_STATE_KEY".into())));
    in_config_dir(CONFIG_SEEDS[0].as_bytes(), |dir| match validate_context(dir) {
        Ok(ctx) => assert!(ctx.config.resources.len() > 5, "the example's resources load, so mutations of it reach evaluation"),
        Err(errors) => panic!("the example loads as a context: {errors:?}"),
    });
    in_config_dir(FUNCTIONS_SEED.as_bytes(), |dir| {
        let ctx = validate_context(dir).unwrap_or_else(|errors| panic!("the functions seed loads: {errors:?}"));
        for (name, output) in &ctx.config.outputs {
            ctx.scope(&BTreeMap::new()).eval_attr(&output.value).unwrap_or_else(|errors| panic!("output {name} evaluates: {errors:?}"));
        }
    });
    let state = crate::state::store::read_state(STATE_SEED, Path::new("seed")).expect("the state seed reads");
    assert_eq!(state.resources.len(), 1);
}

/// Recursion is where a parser overflows its stack (an abort, which no test can catch): deep
/// nesting must be an error at every layer.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let blocks = format!("resource \"postgres_table\" \"t\" {{\n{}{}}}\n", "a {\n".repeat(depth), "}\n".repeat(depth));
    let expressions = format!("locals {{\n x = {}1{}\n}}\n", "[(\"${".repeat(depth), "}\")]".repeat(depth));
    for text in [blocks, expressions] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("main.tf"), &text).expect("write main.tf");
        let errors = crate::config::load_dir(dir.path()).expect_err("too deep to load");
        assert!(errors.0[0].summary.contains("nesting depth"), "{errors:?}");
    }
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(encryption::open(json.as_bytes(), Some(test_encryption()), "s").is_ok_and(|plain| plain == json.as_bytes()));
    assert!(crate::state::store::read_state(&json, Path::new("s")).is_err());
}

/// `value = expression` in an output, evaluated as `validate` does: the value, or the first error.
fn evaluate(expression: &str) -> std::result::Result<strata_provider_sdk::Value, String> {
    let mut result = Err("not evaluated".to_owned());
    in_config_dir(format!("output \"o\" {{\n  value = {expression}\n}}\n").as_bytes(), |dir| {
        let ctx = validate_context(dir).unwrap_or_else(|errors| panic!("{expression} loads: {errors:?}"));
        result = ctx.scope(&BTreeMap::new()).eval_attr(&ctx.config.outputs["o"].value).map(|e| e.value).map_err(|e| format!("{}: {}", e.0[0].summary, e.0[0].detail.clone().unwrap_or_default()));
    });
    result
}

/// Findings of the fuzzer, kept as regressions: each panicked (substr: add with overflow) or
/// aborted (format: a terabyte of padding) before it was fixed.
#[test]
fn fuzz_findings_are_values_or_errors_now() {
    assert_eq!(evaluate("substr(\"Hello World\", 1, 1e20)"), Ok(strata_provider_sdk::Value::from("ello World")));
    for huge in ["format(\"%999999999999d\", 1)", "format(\"%.99999999999f\", 1)"] {
        let error = evaluate(huge).expect_err("too wide to format");
        assert!(error.contains("is larger than"), "{huge}: {error}");
    }
}
