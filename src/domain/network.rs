//! Where a request comes from: the client address behind trusted proxies, and the address
//! bucket that throttling counts (one IPv4 address, or one IPv6 /64: a single host usually holds
//! a whole /64, so counting single IPv6 addresses would let it rotate past every limit).

use std::net::IpAddr;

/// Which hops in front of the server are our own proxies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedProxies {
    /// This many proxies in front of the server (the peer is the nearest one).
    Count(usize),
    /// Proxies are the addresses in these networks.
    Networks(Vec<Network>),
}

/// An address range in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(text: &str) -> Option<Network> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let base: IpAddr = addr.parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { base, prefix })
    }

    pub fn contains(self, addr: IpAddr) -> bool {
        match (self.base, canonical(addr)) {
            (IpAddr::V4(base), IpAddr::V4(addr)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(base) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(addr)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(base) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

impl TrustedProxies {
    /// `MSSP_TRUSTED_PROXIES`: a number of proxies (`1`), or a comma-separated list of networks
    /// (`10.0.0.0/8, 192.168.1.7`).
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        let text = text.trim();
        if let Ok(count) = text.parse::<usize>() {
            return Ok(TrustedProxies::Count(count));
        }
        text.split(',')
            .map(|part| {
                Network::parse(part).ok_or_else(|| {
                    format!("{part:?} is neither a number of proxies nor an address or network")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies::Networks)
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is the IPv4 address it maps.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the peer itself unless it is a trusted proxy; then the right-most
/// `X-Forwarded-For` entry that is not one of our proxies. Entries that are not addresses are
/// ignored; a client can prepend anything, but only the entries our proxies appended count.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    proxies: Option<&TrustedProxies>,
) -> Option<IpAddr> {
    let peer = peer.map(canonical);
    let Some(proxies) = proxies else {
        return peer;
    };
    // The hops, nearest last: what the proxies appended, then the peer.
    let mut chain: Vec<IpAddr> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
        .map(canonical)
        .collect();
    chain.extend(peer);
    match proxies {
        TrustedProxies::Count(count) => {
            let index = chain.len().checked_sub(count.saturating_add(1));
            // Fewer hops than proxies: the request did not come through all of them; the
            // farthest hop we know is the best we have.
            index.map_or(chain.first().copied(), |i| chain.get(i).copied())
        }
        TrustedProxies::Networks(networks) => chain
            .iter()
            .rev()
            .find(|addr| !networks.iter().any(|n| n.contains(**addr)))
            .or(chain.first())
            .copied(),
    }
}

/// The bucket throttling counts an address in: the address for IPv4, its /64 for IPv6.
pub fn throttle_bucket(addr: &str) -> String {
    match addr.parse::<IpAddr>().map(canonical) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        // Not an address (should not happen): count it as it is.
        Err(_) => addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        assert_eq!(
            client_address(ip("203.0.113.9"), Some("1.2.3.4"), None),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_one_proxy_the_entry_it_appended_counts_not_what_the_client_forged() {
        let one = TrustedProxies::Count(1);
        // nginx appends the address it saw to whatever the client sent.
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("6.6.6.6, 203.0.113.9"), Some(&one)),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("203.0.113.9"), Some(&one)),
            ip("203.0.113.9")
        );
        // Garbage is skipped, never taken as an address.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                Some("<script>, 203.0.113.9, not-an-ip"),
                Some(&one)
            ),
            ip("203.0.113.9")
        );
        // No header: the peer (the proxy) is all we know.
        assert_eq!(
            client_address(ip("10.0.0.2"), None, Some(&one)),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn with_proxy_networks_the_right_most_untrusted_hop_is_the_client() {
        let ours = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7").unwrap();
        assert_eq!(
            client_address(
                ip("10.1.2.3"),
                Some("6.6.6.6, 203.0.113.9, 192.168.1.7"),
                Some(&ours)
            ),
            ip("203.0.113.9")
        );
        // A forged entry that claims to be one of our proxies does not help: the walk stops at
        // the first untrusted hop from the right.
        assert_eq!(
            client_address(ip("10.1.2.3"), Some("10.9.9.9, 203.0.113.9"), Some(&ours)),
            ip("203.0.113.9")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert_eq!(TrustedProxies::parse("2"), Ok(TrustedProxies::Count(2)));
    }

    #[test]
    fn networks_match_by_prefix() {
        let n = Network::parse("2001:db8::/32").unwrap();
        assert!(n.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!n.contains("2001:db9::1".parse().unwrap()));
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Network::parse("192.168.1.7")
                .unwrap()
                .contains("::ffff:192.168.1.7".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_is_throttled_per_64() {
        assert_eq!(
            throttle_bucket("2001:db8:1:2:aaaa::1"),
            throttle_bucket("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(
            throttle_bucket("2001:db8:1:2::1"),
            throttle_bucket("2001:db8:1:3::1")
        );
        assert_eq!(throttle_bucket("203.0.113.9"), "203.0.113.9");
        assert_eq!(throttle_bucket("::ffff:203.0.113.9"), "203.0.113.9");
    }
}
