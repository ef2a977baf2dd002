//! The client address behind proxies, for rate limits. `X-Forwarded-For` is written by
//! whoever sends the request, so it is believed only as far as it was appended by proxies
//! Patto trusts (`PATTO_TRUSTED_PROXIES`): reading the list from the right, each hop is
//! the address the previous trusted proxy saw, and the first address that is not a
//! trusted proxy is the client. Whatever a client wrote to the left of that is ignored.

use std::net::IpAddr;
use std::str::FromStr;

/// The proxies whose `X-Forwarded-For` entries are believed: addresses and CIDR ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<(IpAddr, u8)>,
}

/// A trusted-proxy list that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "'{0}' is not an IP address or CIDR range; write PATTO_TRUSTED_PROXIES as a comma-separated list such as 10.0.0.0/8, 127.0.0.1, ::1"
)]
pub struct TrustedProxiesError(pub String);

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let invalid = || TrustedProxiesError(entry.to_owned());
            let (address, prefix) = match entry.split_once('/') {
                Some((address, prefix)) => (
                    address.parse::<IpAddr>().map_err(|_| invalid())?,
                    Some(prefix.parse::<u8>().map_err(|_| invalid())?),
                ),
                None => (entry.parse::<IpAddr>().map_err(|_| invalid())?, None),
            };
            let address = address.to_canonical();
            let bits = match address {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            };
            let prefix = prefix.unwrap_or(bits);
            if prefix > bits {
                return Err(invalid());
            }
            ranges.push((address, prefix));
        }
        Ok(TrustedProxies { ranges })
    }
}

impl TrustedProxies {
    /// Whether `address` is one of the trusted proxies.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.ranges
            .iter()
            .any(|(network, prefix)| in_range(address, *network, *prefix))
    }
}

fn in_range(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

/// The client's address, given the peer that connected, the values of every
/// `X-Forwarded-For` header in the order received, and the trusted proxies. A peer that
/// is not a trusted proxy is the client, whatever the headers say.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            // A trusted proxy would not write this: whatever is left of it came from the
            // client, so the last address a trusted proxy vouched for is the answer.
            return client;
        };
        client = address.to_canonical();
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            client_address(ip("203.0.113.9"), &["198.51.100.1"], &none),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_cannot_claim_another_address() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            client_address(ip("203.0.113.9"), &["10.1.1.1, 198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_last_untrusted_hop() {
        let trusted = proxies("10.0.0.0/8, 127.0.0.1");
        assert_eq!(
            client_address(ip("10.0.0.2"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row, the header split over two lines.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["198.51.100.7", "10.0.0.5"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn addresses_a_client_prepends_are_ignored() {
        let trusted = proxies("10.0.0.0/8");
        // The client wrote "1.2.3.4" itself; the proxy appended the real peer.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // A client pretending to be a trusted proxy's neighbour still stops the walk at
        // its own address.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["10.9.9.9, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_vouched_address() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            client_address(ip("10.0.0.2"), &["not-an-ip"], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["198.51.100.7, <script>, 10.0.0.3"],
                &trusted
            ),
            ip("10.0.0.3")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_and_ipv4_mapped_addresses() {
        let trusted = proxies("::1, 10.0.0.0/8, 2001:db8::/32");
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &["2001:db9::1"], &trusted),
            ip("2001:db9::1")
        );
        assert_eq!(
            client_address(ip("::1"), &["2001:db8::5, ::ffff:198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        assert!(trusted.contains(ip("2001:db8:ffff::1")));
        assert!(!trusted.contains(ip("2001:db9::1")));
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        assert_eq!(
            "10.0.0.0/33".parse::<TrustedProxies>(),
            Err(TrustedProxiesError("10.0.0.0/33".to_owned()))
        );
        assert!("proxy.example.org".parse::<TrustedProxies>().is_err());
        assert!(
            "".parse::<TrustedProxies>()
                .is_ok_and(|list| !list.contains(ip("127.0.0.1")))
        );
        assert!(proxies("0.0.0.0/0").contains(ip("203.0.113.1")));
    }
}
