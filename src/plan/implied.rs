//! Dependencies no reference states. A grant written `role = "analyst"` names the role by its
//! literal name, so the configuration's graph does not know that it must wait for the role's
//! create, nor that the role's drop must wait for the grant's revoke. Each provider says what its
//! resources make and use by name ([`ObjectNames`]); a change that uses what another makes gets it
//! as a dependency, which orders apply (creates after, deletes before) and is kept in state for
//! later deletes.
//!
//! An edge that would close a cycle is left out: the stated dependencies win.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::has_path_connecting;
use petgraph::graphmap::DiGraphMap;
use strata_provider_sdk::{Action, ObjectNames};

use super::ResourceChange;
use crate::addrs::AbsResource;
use crate::context::Context;
use crate::diag::Result;
use crate::state::State;

/// Adds to each change the resources that make what it uses by name.
pub fn add_dependencies(ctx: &Context, state: &State, changes: &mut [ResourceChange]) -> Result<()> {
    let names = changes.iter().map(|change| object_names(ctx, state, change)).collect::<Result<Vec<_>>>()?;
    let resources: Vec<AbsResource> = changes.iter().map(|c| c.address.resource()).collect();
    let mut makers: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (i, made) in names.iter().enumerate() {
        for key in &made.makes {
            makers.entry(key.as_str()).or_default().insert(i);
        }
    }
    // Nodes are resources (dependencies name whole resources), by their first change's index.
    let first: BTreeMap<&AbsResource, usize> = resources.iter().enumerate().rev().map(|(i, r)| (r, i)).collect();
    let node = |i: usize| first[&resources[i]];
    let mut graph: DiGraphMap<usize, ()> = DiGraphMap::new();
    for (i, change) in changes.iter().enumerate() {
        graph.add_node(node(i));
        for dependency in change.dependencies.iter().filter_map(|d| first.get(d)) {
            graph.add_edge(*dependency, node(i), ());
        }
    }
    for (i, used) in names.iter().enumerate() {
        let wanted: BTreeSet<usize> = used.uses.iter().filter_map(|key| makers.get(key.as_str())).flatten().map(|&j| node(j)).filter(|&j| j != node(i)).collect();
        for maker in wanted {
            if graph.contains_edge(maker, node(i)) || has_path_connecting(&graph, node(i), maker, None) {
                continue;
            }
            graph.add_edge(maker, node(i), ());
            changes[i].dependencies.insert(resources[maker].clone());
        }
    }
    Ok(())
}

/// What `change`'s resource makes and uses: read from what it will be, or for a delete from what
/// it was.
fn object_names(ctx: &Context, state: &State, change: &ResourceChange) -> Result<ObjectNames> {
    let value = match change.action {
        Action::Delete => change.before.as_ref(),
        _ => change.after.as_ref(),
    };
    let Some(value) = value else { return Ok(ObjectNames::default()) };
    let provider = ctx.providers.get(&ctx.provider_of(&change.address, state.get(&change.address).map(|i| i.provider())))?;
    Ok(provider.object_names(change.address.type_name(), value))
}
