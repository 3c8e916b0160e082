//! The dependency graph of a configuration (petgraph).
//!
//! Owns which block depends on which: edges from references found in expressions and from
//! `depends_on`, through locals, variables and outputs, and from each resource to its provider.
//! Rejects references to undeclared names and cycles (printed as a path of addresses with their
//! locations), gives the dependency order and the direct resource dependencies of each resource,
//! and draws the graph as DOT. It must not evaluate expressions or plan anything.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::addrs::{ConfigResource, ModulePath, ModuleResource, ProviderConfig};
use crate::config::{AttrExpr, BodyExpr, Config, DependsOn};
use crate::diag::{suggestion, Diagnostic, Diagnostics, Location, Result};
use crate::eval::{expression_references, Reference};

/// A vertex: something that has a value or configuration of its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Resource(ModuleResource),
    Local(ModulePath, String),
    Variable(ModulePath, String),
    Output(ModulePath, String),
    /// A module call's `count`/`for_each` and `depends_on`: everything in the module waits for it.
    ModuleCall(ModulePath),
    /// A `check` block: its assertions read what they refer to after everything else.
    Check(ModulePath, String),
    Provider(ProviderConfig),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_module = |f: &mut fmt::Formatter<'_>, module: &ModulePath| if module.is_root() { Ok(()) } else { write!(f, "{module}.") };
        match self {
            Node::Resource(address) => write!(f, "{address}"),
            Node::Local(module, name) => in_module(f, module).and_then(|_| write!(f, "local.{name}")),
            Node::Variable(module, name) => in_module(f, module).and_then(|_| write!(f, "var.{name}")),
            Node::Output(module, name) => in_module(f, module).and_then(|_| write!(f, "output.{name}")),
            Node::ModuleCall(module) => write!(f, "{module}"),
            Node::Check(module, name) => in_module(f, module).and_then(|_| write!(f, "check.{name}")),
            Node::Provider(config) => match &config.alias {
                Some(alias) => write!(f, "provider[\"{}\"].{alias}", config.name),
                None => write!(f, "provider[\"{}\"]", config.name),
            },
        }
    }
}

pub struct DependencyGraph {
    graph: DiGraph<Node, ()>,
    index: HashMap<Node, NodeIndex>,
    locations: HashMap<Node, Location>,
}

impl DependencyGraph {
    /// Builds and checks the graph of `config`; `providers` are the provider names in use.
    pub fn build(config: &Config, providers: &BTreeSet<ProviderConfig>) -> Result<DependencyGraph> {
        let mut builder = Builder { config, graph: DependencyGraph { graph: DiGraph::new(), index: HashMap::new(), locations: HashMap::new() }, errors: Diagnostics::default() };
        builder.add_all(providers);
        if builder.errors.has_errors() {
            return Err(builder.errors);
        }
        let graph = builder.graph;
        graph.check_cycles()?;
        Ok(graph)
    }

    fn node(&mut self, node: Node) -> NodeIndex {
        if let Some(&index) = self.index.get(&node) {
            return index;
        }
        let index = self.graph.add_node(node.clone());
        self.index.insert(node, index);
        index
    }

    /// `dependant` needs `dependency` first.
    fn edge(&mut self, dependency: Node, dependant: Node) {
        let from = self.node(dependency);
        let to = self.node(dependant);
        self.graph.update_edge(from, to, ());
    }

    fn check_cycles(&self) -> Result<()> {
        if let Err(cycle) = toposort(&self.graph, None) {
            let path = self.cycle_through(cycle.node_id());
            let lines: Vec<String> = path
                .iter()
                .map(|&i| {
                    let node = &self.graph[i];
                    match self.locations.get(node) {
                        Some(location) => format!("{node} ({location})"),
                        None => node.to_string(),
                    }
                })
                .collect();
            let first = self.graph[path[0]].clone();
            return Err(Diagnostic::error("dependency cycle")
                .at(self.locations.get(&first))
                .detail(format!("{}\n-> {}", lines.join("\n-> "), lines[0]))
                .hint("break the cycle by removing one of these references or depends_on entries")
                .into());
        }
        Ok(())
    }

    /// A shortest cycle through `start`: start, ..., back to start (start not repeated).
    fn cycle_through(&self, start: NodeIndex) -> Vec<NodeIndex> {
        let component: BTreeSet<NodeIndex> = tarjan_scc(&self.graph).into_iter().find(|c| c.contains(&start)).unwrap_or_default().into_iter().collect();
        let mut previous: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for next in self.graph.neighbors_directed(current, Direction::Outgoing) {
                if next == start {
                    let mut path = vec![current];
                    while let Some(&p) = previous.get(path.last().unwrap_or(&start)) {
                        path.push(p);
                    }
                    path.reverse();
                    return path;
                }
                if component.contains(&next) && !previous.contains_key(&next) {
                    previous.insert(next, current);
                    queue.push_back(next);
                }
            }
        }
        vec![start]
    }

    /// Every node, each after everything it depends on.
    pub fn order(&self) -> Vec<Node> {
        toposort(&self.graph, None).map(|order| order.into_iter().map(|i| self.graph[i].clone()).collect()).unwrap_or_default()
    }

    /// The resources `node` depends on directly, looking through locals, variables, outputs and
    /// providers: a table depends on the instance its provider block takes its host from.
    pub fn resource_dependencies(&self, node: &Node) -> BTreeSet<ModuleResource> {
        let mut found = BTreeSet::new();
        let Some(&start) = self.index.get(node) else { return found };
        let mut stack = vec![start];
        let mut seen = BTreeSet::new();
        while let Some(current) = stack.pop() {
            for dependency in self.graph.neighbors_directed(current, Direction::Incoming) {
                if !seen.insert(dependency) {
                    continue;
                }
                match &self.graph[dependency] {
                    Node::Resource(address) => {
                        found.insert(address.clone());
                    }
                    _ => stack.push(dependency),
                }
            }
        }
        found
    }

    /// The graph of resources and providers in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut lines = vec!["digraph strata {".to_owned(), "  rankdir = \"RL\";".to_owned(), "  node [shape = box];".to_owned()];
        let mut shown: Vec<&Node> = self.graph.node_weights().filter(|n| matches!(n, Node::Resource(_) | Node::Provider(_))).collect();
        shown.sort();
        for node in &shown {
            lines.push(format!("  {};", dot_id(node)));
        }
        let mut edges = BTreeSet::new();
        for node in &shown {
            let dependencies: Vec<Node> = match node {
                Node::Resource(_) => {
                    let mut all: Vec<Node> = self.resource_dependencies(node).into_iter().map(Node::Resource).collect();
                    all.extend(self.graph.edges_directed(self.index[*node], Direction::Incoming).map(|e| self.graph[e.source()].clone()).filter(|n| matches!(n, Node::Provider(_))));
                    all
                }
                _ => self.resource_dependencies(node).into_iter().map(Node::Resource).collect(),
            };
            for dependency in dependencies {
                edges.insert(format!("  {} -> {};", dot_id(node), dot_id(&dependency)));
            }
        }
        lines.extend(edges);
        lines.push("}".to_owned());
        lines.join("\n") + "\n"
    }
}

fn dot_id(node: &Node) -> String {
    format!("\"{}\"", node.to_string().replace('\\', "\\\\").replace('"', "\\\""))
}

struct Builder<'c> {
    config: &'c Config,
    graph: DependencyGraph,
    errors: Diagnostics,
}

impl<'c> Builder<'c> {
    fn add_all(&mut self, providers: &BTreeSet<ProviderConfig>) {
        let root = self.config;
        for name in providers {
            let node = Node::Provider(name.clone());
            self.graph.node(node.clone());
            if let Some(block) = root.providers.get(name) {
                self.graph.locations.insert(node.clone(), block.body.location.clone());
                self.add_body_references(&node, &block.body, root);
            }
        }
        for module in root.modules_in_tree() {
            self.add_module(module);
        }
    }

    /// The nodes of one module's blocks, and the edges into them.
    fn add_module(&mut self, module: &'c Config) {
        let path = &module.path;
        let caller = path.parent().and_then(|parent| self.config.module(&parent).map(|config| (config, path.0.last().cloned().unwrap_or_default())));
        for name in module.variables.keys() {
            let node = Node::Variable(path.clone(), name.clone());
            self.graph.node(node.clone());
            if let Some((caller, call_name)) = &caller {
                self.graph.edge(Node::ModuleCall(path.clone()), node.clone());
                if let Some(input) = caller.modules.get(call_name).and_then(|call| call.inputs.get(name)) {
                    self.add_references(&node, input, caller);
                }
            }
        }
        for (name, local) in &module.locals {
            let node = Node::Local(path.clone(), name.clone());
            self.graph.locations.insert(node.clone(), local.value.location.clone());
            self.graph.node(node.clone());
            self.add_references(&node, &local.value, module);
        }
        for (address, resource) in &module.resources {
            let node = Node::Resource(ModuleResource::new(path.clone(), address.clone()));
            self.graph.locations.insert(node.clone(), resource.location.clone());
            self.graph.node(node.clone());
            let block = ModuleResource::new(path.clone(), address.clone());
            let provider = self.config.provider_for(&block).unwrap_or_else(|| ProviderConfig::default_of(address.provider()));
            self.graph.edge(Node::Provider(provider), node.clone());
            if !path.is_root() {
                self.graph.edge(Node::ModuleCall(path.clone()), node.clone());
            }
            self.add_body_references(&node, &resource.body, module);
            if let Some(attr) = resource.expansion.expression() {
                self.add_references(&node, attr, module);
            }
            self.add_depends_on(&node, &resource.depends_on, &resource.location, module);
            for condition in resource.lifecycle.iter().flat_map(|l| l.preconditions.iter().chain(&l.postconditions)) {
                self.add_condition_references(&node, condition, module);
            }
        }
        for (name, check) in &module.checks {
            let node = Node::Check(path.clone(), name.clone());
            self.graph.locations.insert(node.clone(), check.location.clone());
            self.graph.node(node.clone());
            for assert in &check.asserts {
                self.add_condition_references(&node, assert, module);
            }
        }
        for (name, call) in &module.modules {
            let node = Node::ModuleCall(path.child(name));
            self.graph.locations.insert(node.clone(), call.location.clone());
            self.graph.node(node.clone());
            if !path.is_root() {
                self.graph.edge(Node::ModuleCall(path.clone()), node.clone());
            }
            if let Some(attr) = call.expansion.expression() {
                self.add_references(&node, attr, module);
            }
            self.add_depends_on(&node, &call.depends_on, &call.location, module);
        }
        for (name, output) in &module.outputs {
            let node = Node::Output(path.clone(), name.clone());
            self.graph.locations.insert(node.clone(), output.location.clone());
            self.graph.node(node.clone());
            self.add_references(&node, &output.value, module);
            self.add_depends_on(&node, &output.depends_on, &output.location, module);
            for condition in &output.preconditions {
                self.add_condition_references(&node, condition, module);
            }
        }
    }

    fn add_condition_references(&mut self, node: &Node, condition: &crate::config::Condition, module: &Config) {
        self.add_references(node, &condition.condition, module);
        self.add_references(node, &condition.error_message, module);
    }

    fn add_body_references(&mut self, node: &Node, body: &BodyExpr, module: &Config) {
        // Nested and dynamic blocks included, a dynamic block's iterator left out.
        for (attr, references) in crate::eval::body_references(body) {
            self.add_found_references(node, attr, references, module);
        }
    }

    /// Edges for what `attr`, an expression of `module`, refers to.
    fn add_references(&mut self, node: &Node, attr: &AttrExpr, module: &Config) {
        self.add_found_references(node, attr, expression_references(&attr.expr), module);
    }

    fn add_found_references(&mut self, node: &Node, attr: &AttrExpr, references: Vec<Reference>, module: &Config) {
        let path = &module.path;
        for reference in references {
            match reference {
                Reference::Variable(name) => {
                    if module.variables.contains_key(&name) {
                        self.graph.edge(Node::Variable(path.clone(), name), node.clone());
                    } else {
                        self.undeclared(&format!("input variable \"{name}\""), &name, module.variables.keys(), &attr.location, path);
                    }
                }
                Reference::Local(name) => {
                    if module.locals.contains_key(&name) {
                        self.graph.edge(Node::Local(path.clone(), name), node.clone());
                    } else {
                        self.undeclared(&format!("local value \"{name}\""), &name, module.locals.keys(), &attr.location, path);
                    }
                }
                Reference::Resource(address) => self.add_resource_edge(node, &address, &attr.location, module),
                Reference::Module { name, output } => self.add_module_output_edge(node, &name, output.as_deref(), &attr.location, module),
            }
        }
    }

    /// `module.NAME.OUTPUT`: an edge from that output; `module.NAME`: from all of them.
    fn add_module_output_edge(&mut self, node: &Node, name: &str, output: Option<&str>, location: &Location, module: &Config) {
        let Some(call) = module.modules.get(name) else {
            self.undeclared(&format!("module call \"{name}\""), name, module.modules.keys(), location, &module.path);
            return;
        };
        let child = &call.config;
        match output {
            Some(output) if !child.outputs.contains_key(output) => {
                let what = format!("output \"{output}\" of {}", child.path);
                self.undeclared(&what, output, child.outputs.keys(), location, &module.path);
            }
            Some(output) => self.graph.edge(Node::Output(child.path.clone(), output.to_owned()), node.clone()),
            None => {
                for output in child.outputs.keys() {
                    self.graph.edge(Node::Output(child.path.clone(), output.clone()), node.clone());
                }
            }
        }
    }

    fn add_depends_on(&mut self, node: &Node, depends_on: &[DependsOn], location: &Location, module: &Config) {
        for dependency in depends_on {
            match dependency {
                DependsOn::Resource(address) => self.add_resource_edge(node, address, location, module),
                DependsOn::Module(name) => match module.modules.get(name) {
                    // Everything in the module, to any depth.
                    Some(call) => {
                        for (address, _) in call.config.all_resources() {
                            self.graph.edge(Node::Resource(address), node.clone());
                        }
                    }
                    None => self.undeclared(&format!("module call \"{name}\""), name, module.modules.keys(), location, &module.path),
                },
            }
        }
    }

    fn add_resource_edge(&mut self, node: &Node, address: &ConfigResource, location: &Location, module: &Config) {
        if module.resources.contains_key(address) {
            self.graph.edge(Node::Resource(ModuleResource::new(module.path.clone(), address.clone())), node.clone());
            return;
        }
        let names: Vec<String> = module.resources.keys().map(ConfigResource::to_string).collect();
        let target = address.to_string();
        let what = if module.path.is_root() { format!("resource {address}") } else { format!("resource {address} in {}", module.path) };
        self.undeclared(&what, &target, names.iter(), location, &module.path);
    }

    fn undeclared<'n>(&mut self, what: &str, name: &str, candidates: impl Iterator<Item = &'n String> + Clone, location: &Location, module: &ModulePath) {
        let mut error = Diagnostic::error(format!("reference to undeclared {what}")).at(Some(location)).hint(suggestion(name, candidates.map(String::as_str)));
        if !module.is_root() {
            error = error.detail(format!("in {module}"));
        }
        self.errors.push(error);
    }
}
