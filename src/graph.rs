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

use crate::addrs::ConfigResource;
use crate::config::{AttrExpr, BodyExpr, Config};
use crate::diag::{suggestion, Diagnostic, Diagnostics, Location, Result};
use crate::eval::{expression_references, Reference};

/// A vertex: something that has a value or configuration of its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Resource(ConfigResource),
    Local(String),
    Variable(String),
    Output(String),
    Provider(String),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Resource(address) => write!(f, "{address}"),
            Node::Local(name) => write!(f, "local.{name}"),
            Node::Variable(name) => write!(f, "var.{name}"),
            Node::Output(name) => write!(f, "output.{name}"),
            Node::Provider(name) => write!(f, "provider[\"{name}\"]"),
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
    pub fn build(config: &Config, providers: &BTreeSet<String>) -> Result<DependencyGraph> {
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
    pub fn resource_dependencies(&self, node: &Node) -> BTreeSet<ConfigResource> {
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

impl Builder<'_> {
    fn add_all(&mut self, providers: &BTreeSet<String>) {
        let config = self.config;
        for name in config.variables.keys() {
            self.graph.node(Node::Variable(name.clone()));
        }
        for (name, local) in &config.locals {
            let node = Node::Local(name.clone());
            self.graph.locations.insert(node.clone(), local.value.location.clone());
            self.graph.node(node.clone());
            self.add_references(&node, &local.value);
        }
        for name in providers {
            let node = Node::Provider(name.clone());
            self.graph.node(node.clone());
            if let Some(block) = config.providers.get(name) {
                self.graph.locations.insert(node.clone(), block.body.location.clone());
                self.add_body_references(&node, &block.body);
            }
        }
        for (address, resource) in &config.resources {
            let node = Node::Resource(address.clone());
            self.graph.locations.insert(node.clone(), resource.location.clone());
            self.graph.node(node.clone());
            self.graph.edge(Node::Provider(address.provider().to_owned()), node.clone());
            self.add_body_references(&node, &resource.body);
            if let Some(attr) = resource.expansion.expression() {
                self.add_references(&node, attr);
            }
            for dependency in &resource.depends_on {
                self.add_resource_edge(&node, dependency, &resource.location);
            }
        }
        for (name, output) in &config.outputs {
            let node = Node::Output(name.clone());
            self.graph.locations.insert(node.clone(), output.location.clone());
            self.add_references(&node, &output.value);
            for dependency in &output.depends_on {
                self.add_resource_edge(&node, dependency, &output.location);
            }
        }
    }

    fn add_body_references(&mut self, node: &Node, body: &BodyExpr) {
        // Nested and dynamic blocks included, a dynamic block's iterator left out.
        for (attr, references) in crate::eval::body_references(body) {
            self.add_found_references(node, attr, references);
        }
    }

    fn add_references(&mut self, node: &Node, attr: &AttrExpr) {
        self.add_found_references(node, attr, expression_references(&attr.expr));
    }

    fn add_found_references(&mut self, node: &Node, attr: &AttrExpr, references: Vec<Reference>) {
        for reference in references {
            match reference {
                Reference::Variable(name) => {
                    if self.config.variables.contains_key(&name) {
                        self.graph.edge(Node::Variable(name), node.clone());
                    } else {
                        self.undeclared(&format!("input variable \"{name}\""), &name, self.config.variables.keys(), &attr.location);
                    }
                }
                Reference::Local(name) => {
                    if self.config.locals.contains_key(&name) {
                        self.graph.edge(Node::Local(name), node.clone());
                    } else {
                        self.undeclared(&format!("local value \"{name}\""), &name, self.config.locals.keys(), &attr.location);
                    }
                }
                Reference::Resource(address) => self.add_resource_edge(node, &address, &attr.location),
            }
        }
    }

    fn add_resource_edge(&mut self, node: &Node, address: &ConfigResource, location: &Location) {
        if self.config.resources.contains_key(address) {
            self.graph.edge(Node::Resource(address.clone()), node.clone());
            return;
        }
        let names: Vec<String> = self.config.resources.keys().map(ConfigResource::to_string).collect();
        let target = address.to_string();
        self.undeclared(&format!("resource {address}"), &target, names.iter(), location);
    }

    fn undeclared<'n>(&mut self, what: &str, name: &str, candidates: impl Iterator<Item = &'n String> + Clone, location: &Location) {
        self.errors.push(
            Diagnostic::error(format!("reference to undeclared {what}"))
                .at(Some(location))
                .hint(suggestion(name, candidates.map(String::as_str))),
        );
    }
}
