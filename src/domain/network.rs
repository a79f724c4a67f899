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

/// One `X-Forwarded-For` entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:5678`; anything else is not an address.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(addr) = entry.parse::<IpAddr>() {
        return Some(canonical(addr));
    }
    if let Some(rest) = entry.strip_prefix('[') {
        let (v6, port) = rest.split_once("]:")?;
        port.parse::<u16>().ok()?;
        return v6.parse::<IpAddr>().ok().map(canonical);
    }
    let (v4, port) = entry.split_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client's address. Without trusted proxies: the peer, whatever the headers say. Behind
/// them: the `X-Forwarded-For` entry appended by the outermost of our proxies, found from the
/// right, so that what a client wrote in front of it never counts. When that entry is not an
/// address, or the request passed fewer hops than there are proxies, the answer is the nearest
/// address known to be ours (the peer): such clients are counted together, never as whoever
/// they claim to be.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    proxies: Option<&TrustedProxies>,
) -> Option<IpAddr> {
    let peer = peer.map(canonical);
    let (Some(proxies), Some(peer_addr)) = (proxies, peer) else {
        return peer;
    };
    let entries: Vec<Option<IpAddr>> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter(|e| !e.trim().is_empty())
        .map(parse_hop)
        .collect();
    match proxies {
        TrustedProxies::Count(0) => Some(peer_addr),
        // A count says nothing about who the proxies are: a peer on a public address did not
        // come through them (someone reached the port directly) and its header means nothing.
        TrustedProxies::Count(_) if !is_internal(peer_addr) => Some(peer_addr),
        TrustedProxies::Count(count) => {
            // The peer is the nearest proxy; the others appended the entries on the right.
            let Some(index) = entries.len().checked_sub(*count) else {
                return Some(peer_addr);
            };
            Some(entries.get(index).copied().flatten().unwrap_or(peer_addr))
        }
        TrustedProxies::Networks(networks) => {
            let trusted = |addr: IpAddr| networks.iter().any(|n| n.contains(addr));
            if !trusted(peer_addr) {
                // Not through our proxies: the peer is the client.
                return Some(peer_addr);
            }
            let mut nearest = peer_addr;
            for entry in entries.iter().rev() {
                match entry {
                    Some(addr) if trusted(*addr) => nearest = *addr,
                    Some(addr) => return Some(*addr),
                    None => return Some(nearest),
                }
            }
            Some(nearest)
        }
    }
}

/// Loopback, private and link-local addresses: where one's own proxies live.
pub fn is_internal(addr: IpAddr) -> bool {
    match canonical(addr) {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
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
        // Ports are stripped, as some proxies append them.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                Some("6.6.6.6, 203.0.113.9:51234"),
                Some(&one)
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("[2001:db8::7]:443"), Some(&one)),
            ip("2001:db8::7")
        );
        // An entry that is not an address is never taken for one, nor is the client's own
        // entry in front of it: the request counts as the proxy's.
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("6.6.6.6, proxy-garbage"), Some(&one)),
            ip("10.0.0.2")
        );
        // No header: the peer (the proxy) is all we know.
        assert_eq!(
            client_address(ip("10.0.0.2"), None, Some(&one)),
            ip("10.0.0.2")
        );
        // A public peer is not one of our proxies, whatever the count: its header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), Some("203.0.113.9"), Some(&one)),
            ip("198.51.100.1")
        );
        // Behind two proxies, one entry is not enough to know the client.
        let two = TrustedProxies::Count(2);
        assert_eq!(
            client_address(ip("10.0.0.2"), Some("6.6.6.6"), Some(&two)),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                Some("6.6.6.6, 203.0.113.9, 10.0.0.1"),
                Some(&two)
            ),
            ip("203.0.113.9")
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
        // A peer that is not one of our proxies is the client, whatever it sends.
        assert_eq!(
            client_address(ip("198.51.100.1"), Some("203.0.113.9"), Some(&ours)),
            ip("198.51.100.1")
        );
        // Garbage right after our proxies: the nearest proxy stands for the client.
        assert_eq!(
            client_address(
                ip("10.1.2.3"),
                Some("6.6.6.6, bogus, 192.168.1.7"),
                Some(&ours)
            ),
            ip("192.168.1.7")
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
