//! The GitHub Actions examples in examples/ci/github-actions: each parses as YAML with the keys a
//! workflow needs, and every `strata ...` command in their scripts uses a subcommand and flags the
//! real binary accepts (checked against its `--help`); the plan job's script, run against a real
//! PostgreSQL, makes a data-losing plan that applies only with the `allow-data-loss` label.

use crate::common;

use std::path::{Path, PathBuf};

use common::{TestDb, Workdir};

use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOWS: [&str; 4] = ["plan.yml", "apply.yml", "drift.yml", "backups.yml"];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/github-actions")
}

fn load(name: &str) -> Yaml {
    let text = std::fs::read_to_string(examples_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut documents = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
    assert_eq!(documents.len(), 1, "{name}: one document");
    documents.remove(0)
}

/// The `run:` scripts of every step of every job.
fn run_scripts(name: &str, workflow: &Yaml) -> Vec<String> {
    let jobs = workflow["jobs"].as_hash().unwrap_or_else(|| panic!("{name}: jobs must be a mapping"));
    assert!(!jobs.is_empty(), "{name}: no jobs");
    let mut scripts = Vec::new();
    for (job_name, job) in jobs {
        assert!(job["runs-on"].as_str().is_some(), "{name}: job {job_name:?} has no runs-on");
        let steps = job["steps"].as_vec().unwrap_or_else(|| panic!("{name}: job {job_name:?} has no steps"));
        assert!(!steps.is_empty(), "{name}: job {job_name:?} has no steps");
        for step in steps {
            assert!(step["uses"].as_str().is_some() != step["run"].as_str().is_some(), "{name}: a step needs exactly one of uses and run: {step:?}");
            scripts.extend(step["run"].as_str().map(str::to_owned));
        }
    }
    scripts
}

/// A `strata` command in a script: the words after `strata` up to the end of the command.
#[derive(Debug)]
struct Invocation {
    words: Vec<String>,
}

/// Words that end a shell command, or start one.
const SEPARATORS: [&str; 8] = [";", "&&", "||", "|", "then", "else", "do", "!"];

fn invocations(script: &str) -> Vec<Invocation> {
    let mut found = Vec::new();
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            let starts_command = i == 0 || SEPARATORS.contains(&words[i - 1]) || words[i - 1] == "if";
            if *word == "strata" && starts_command {
                let rest = words[i + 1..].iter().take_while(|w| !SEPARATORS.contains(w) && !w.starts_with('>') && !w.starts_with("2>"));
                found.push(Invocation { words: rest.map(|w| (*w).to_owned()).collect() });
            }
        }
    }
    found
}

fn help(command: &[String]) -> (i32, String) {
    let output = common::strata_command().args(command).arg("--help").output().expect("run strata --help");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The subcommand words (`drift`, or `state list`) and the flags of one invocation.
fn command_and_flags(invocation: &Invocation) -> (Vec<String>, Vec<String>) {
    let mut command: Vec<String> = invocation.words.iter().take(1).cloned().collect();
    let (_, top_help) = help(&command);
    // A nested subcommand (state list, drift ack) is listed under "Commands:" in the parent's help.
    if let Some(next) = invocation.words.get(1).filter(|w| !w.starts_with('-')) {
        if top_help.contains("Commands:") && top_help.lines().any(|l| l.trim_start().starts_with(&format!("{next} "))) {
            command.push(next.clone());
        }
    }
    let flags = invocation.words.iter().filter(|w| w.starts_with('-')).map(|w| w.split('=').next().unwrap_or(w).trim_start_matches('-').to_owned()).collect();
    (command, flags)
}

#[test]
fn workflows_parse_and_have_what_a_workflow_needs() {
    for name in WORKFLOWS {
        let workflow = load(name);
        assert!(workflow["name"].as_str().is_some(), "{name}: name");
        assert!(!workflow["on"].is_badvalue() && !workflow["on"].is_null(), "{name}: on (triggers)");
        assert!(!run_scripts(name, &workflow).is_empty(), "{name}: no run steps");
    }
    assert!(load("plan.yml")["on"]["pull_request"].as_hash().is_some(), "plan.yml runs on pull requests");
    assert!(load("apply.yml")["on"]["push"]["branches"].as_vec().is_some_and(|b| b.contains(&Yaml::String("main".into()))), "apply.yml runs on pushes to main");
    assert_eq!(load("apply.yml")["concurrency"]["cancel-in-progress"].as_bool(), Some(false), "applies queue, never cancel");
    let drift = load("drift.yml");
    assert!(drift["on"]["schedule"][0]["cron"].as_str().is_some(), "drift.yml runs on a schedule");
    assert!(!drift["on"]["workflow_dispatch"].is_badvalue(), "drift.yml can be run by hand");
    assert!(examples_dir().join("README.md").exists());
}

#[test]
fn every_strata_command_in_the_workflows_exists_with_its_flags() {
    let mut problems = Vec::new();
    let mut used = Vec::new();
    for name in WORKFLOWS {
        let workflow = load(name);
        for invocation in run_scripts(name, &workflow).iter().flat_map(|s| invocations(s)) {
            let (command, flags) = command_and_flags(&invocation);
            let (code, text) = help(&command);
            if code != 0 {
                problems.push(format!("{name}: strata {} does not exist", command.join(" ")));
                continue;
            }
            for flag in &flags {
                if !text.contains(&format!("--{flag} ")) && !text.contains(&format!("--{flag}\n")) {
                    problems.push(format!("{name}: strata {} has no -{flag}", command.join(" ")));
                }
            }
            used.push(format!("{} {}", command.join(" "), flags.join(" ")));
        }
    }
    // drift.yml passes -webhook through "$@", when the secret is set.
    let (_, drift_help) = help(&["drift".to_owned()]);
    if !drift_help.contains("--webhook ") {
        problems.push("drift.yml: strata drift has no -webhook".to_owned());
    }
    assert!(problems.is_empty(), "{problems:#?}");
    for expected in ["plan no-color out detailed-exitcode", "plan no-color out detailed-exitcode allow-data-loss", "show format", "show json", "apply no-color auto-approve", "drift no-color format"] {
        assert!(used.iter().any(|u| u == expected), "no `strata {expected}` in the workflows: {used:#?}");
    }
}

/// The `run:` script of the step called `step` in job `job`.
fn step_script(workflow: &Yaml, job: &str, step: &str) -> String {
    let steps = workflow["jobs"][job]["steps"].as_vec().unwrap_or_else(|| panic!("no job {job}"));
    let found = steps.iter().find(|s| s["name"].as_str() == Some(step)).unwrap_or_else(|| panic!("no step {step:?} in job {job}"));
    found["run"].as_str().unwrap_or_else(|| panic!("step {step:?} has no run script")).to_owned()
}

/// Runs a workflow script with bash in `work`, with the strata under test first on PATH, the test
/// database as the libpq default, and the label `allow-data-loss` set or not.
fn run_step(work: &Workdir, db: &TestDb, script: &str, labelled: bool) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_strata")).parent().expect("the binary's directory").to_owned();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).expect("PATH");
    common::command("bash")
        .args(["-e", "-c", script])
        .current_dir(work.path())
        .env("PATH", path)
        .env("PGDATABASE", &db.name)
        .env("ALLOW_DATA_LOSS", labelled.to_string())
        .output()
        .expect("run bash")
}

const NOTES: &str = r#"
resource "postgres_table" "notes" {
  name = "notes"
  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "body"
    type = "text"
  }
  primary_key = ["id"]
}
"#;

#[test]
fn a_data_losing_plan_is_applied_on_merge_only_with_the_allow_data_loss_label() {
    let plan = load("plan.yml");
    let types = plan["on"]["pull_request"]["types"].as_vec().expect("pull_request types");
    for event in ["opened", "synchronize", "labeled", "unlabeled"] {
        assert!(types.contains(&Yaml::String(event.into())), "plan.yml must re-plan on {event}: {types:?}");
    }
    assert!(plan["env"]["ALLOW_DATA_LOSS"].as_str().is_some_and(|e| e.contains("'allow-data-loss'")), "the consent is the PR label");
    let render = step_script(&plan, "plan", "Render the plan as markdown");
    assert!(render.contains("add the label `allow-data-loss`") && render.contains("merging applies the data loss"), "the comment says how to consent: {render}");

    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", NOTES);
    work.apply();
    db.execute("INSERT INTO notes VALUES (1, 'kept until consent')");
    work.write("main.tf", &NOTES.replace("  column {\n    name = \"body\"\n    type = \"text\"\n  }\n", ""));
    let script = step_script(&plan, "plan", "strata plan");
    for labelled in [false, true] {
        let planned = run_step(&work, &db, &script, labelled);
        assert!(planned.status.success(), "the plan step failed: {planned:?}");
        let apply = work.strata(&["apply", "-no-color", "-auto-approve", "plan.bin"]);
        let has_body = db.columns("notes").iter().any(|c| c.starts_with("body "));
        if labelled {
            assert_eq!(apply.code, 0, "a plan made with the label applies: {apply:?}");
            assert!(!has_body, "the consented drop happened");
        } else {
            assert_eq!(apply.code, 1, "a data-losing plan without the label is refused: {apply:?}");
            assert!(apply.output().contains("allow-data-loss"), "{apply:?}");
            assert!(has_body, "nothing was dropped without consent");
        }
    }
}
