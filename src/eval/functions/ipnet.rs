//! IP network functions, for IPv4 and IPv6 alike: addresses are u128 numbers of 32 or 128 bits,
//! so a subnet or host number is plain arithmetic, checked for overflow.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use strata_provider_sdk::Value;

use super::{Args, Category::IpNetwork as Ip, FnResult, Function};
use crate::diag::Diagnostic;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("cidrhost", Ip, &["prefix", "hostnum"], cidrhost),
    Function::new("cidrnetmask", Ip, &["prefix"], cidrnetmask),
    Function::new("cidrsubnet", Ip, &["prefix", "newbits", "netnum"], cidrsubnet),
    Function::new("cidrsubnets", Ip, &["prefix"], cidrsubnets).variadic("newbits"),
];

/// A network: its first address as a number, its prefix length, and the address width.
#[derive(Clone, Copy)]
struct Network {
    base: u128,
    prefix: u32,
    bits: u32,
}

impl Network {
    /// The host part's bits all set: the offset of the last address (2^128 - 1 for an IPv6 /0).
    fn host_mask(&self) -> u128 {
        1u128.checked_shl(self.bits - self.prefix).map_or(u128::MAX, |size| size - 1)
    }

    fn address(&self, n: u128) -> IpAddr {
        if self.bits == 32 {
            IpAddr::V4(Ipv4Addr::from(n as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(n))
        }
    }

    fn cidr(&self) -> String {
        format!("{}/{}", self.address(self.base), self.prefix)
    }
}

fn parse(args: &Args, index: usize) -> Result<Network, Diagnostic> {
    let text = args.string(index)?;
    let net: IpNet = text.parse().map_err(|_| args.invalid(index, format!("invalid CIDR address: {text}")))?;
    let network = net.trunc();
    Ok(match network {
        IpNet::V4(v4) => Network { base: u128::from(u32::from(v4.network())), prefix: u32::from(v4.prefix_len()), bits: 32 },
        IpNet::V6(v6) => Network { base: u128::from(v6.network()), prefix: u32::from(v6.prefix_len()), bits: 128 },
    })
}

fn cidrhost(args: &Args) -> FnResult {
    let network = parse(args, 0)?;
    let hostnum = args.integer(1)?;
    let host_mask = network.host_mask();
    let magnitude = u128::from(hostnum.unsigned_abs());
    // A negative host number counts back from the end: -1 is the last address.
    let offset = match hostnum >= 0 {
        true => (magnitude <= host_mask).then_some(magnitude),
        false => (magnitude - 1 <= host_mask).then(|| host_mask - (magnitude - 1)),
    };
    let Some(offset) = offset else {
        return Err(args.fail(format!("prefix of {} does not accommodate a host numbered {hostnum}", network.prefix)));
    };
    Ok(Value::String(network.address(network.base + offset).to_string()))
}

fn cidrnetmask(args: &Args) -> FnResult {
    let network = parse(args, 0)?;
    if network.bits != 32 {
        return Err(args.invalid(0, format!("IPv6 addresses cannot have a netmask: {}", network.cidr())));
    }
    let mask = u32::MAX.checked_shl(32 - network.prefix).unwrap_or(0);
    Ok(Value::String(Ipv4Addr::from(mask).to_string()))
}

/// The subnet numbered `netnum` of `network` extended by `newbits`.
fn subnet(network: Network, newbits: u32, netnum: u128) -> Result<Network, String> {
    let prefix = network.prefix + newbits;
    if prefix > network.bits {
        return Err(format!("insufficient address space to extend prefix of {} by {newbits}", network.prefix));
    }
    let max = 1u128.checked_shl(newbits).unwrap_or(u128::MAX);
    if netnum >= max && newbits < 128 {
        return Err(format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"));
    }
    let shift = network.bits - prefix;
    let offset = netnum.checked_shl(shift).unwrap_or(0);
    Ok(Network { base: network.base | offset, prefix, bits: network.bits })
}

fn cidrsubnet(args: &Args) -> FnResult {
    let network = parse(args, 0)?;
    let newbits = args.integer(1)?;
    let netnum = args.integer(2)?;
    let newbits = u32::try_from(newbits).map_err(|_| args.invalid(1, "must be a non-negative number"))?;
    let netnum = u128::try_from(netnum).map_err(|_| args.invalid(2, "must be a non-negative number"))?;
    subnet(network, newbits.min(256), netnum).map(|n| Value::String(n.cidr())).map_err(|message| args.fail(message))
}

/// Consecutive subnets of the given sizes, each aligned to its own size, as Terraform allocates them.
fn cidrsubnets(args: &Args) -> FnResult {
    let network = parse(args, 0)?;
    // The first address not yet allocated; None once the network is used up.
    let mut next = Some(network.base);
    let end = network.base | network.host_mask();
    let mut out = Vec::new();
    for index in 1..args.values.len() {
        let newbits = args.integer(index)?;
        if newbits < 1 {
            return Err(args.invalid(index, "must extend prefix by at least one bit"));
        }
        let prefix = u64::from(network.prefix) + newbits.unsigned_abs();
        if prefix > u64::from(network.bits) {
            return Err(args.invalid(index, format!("would extend prefix to {prefix} bits, which is too long for an IPv{} address", if network.bits == 32 { 4 } else { 6 })));
        }
        let subnet_mask = 1u128.checked_shl(network.bits - prefix as u32).map_or(u128::MAX, |size| size - 1);
        // Aligned up to the subnet's size: the first multiple of it at or after `next`.
        let start = next.and_then(|n| n.checked_add(subnet_mask)).map(|n| n & !subnet_mask);
        let last = start.map(|s| s | subnet_mask).filter(|last| *last <= end);
        let (Some(start), Some(last)) = (start, last) else {
            let after = out.last().cloned().unwrap_or_else(|| network.cidr());
            return Err(args.fail(format!("not enough remaining address space for a subnet with a prefix of {prefix} bits after {after}")));
        };
        let subnet = Network { base: start, prefix: prefix as u32, bits: network.bits };
        out.push(subnet.cidr());
        next = last.checked_add(1);
    }
    Ok(Value::List(out.into_iter().map(Value::String).collect()))
}
