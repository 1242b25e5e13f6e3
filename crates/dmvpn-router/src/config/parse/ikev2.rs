//! `crypto ikev2 …`: the headers of `proposal`, `policy`, `keyring` and `profile`, their modes
//! (and a keyring's `peer` mode), and `crypto ikev2 cookie-challenge N`.
//!
//! Pre-shared keys never reach a diagnostic: a `pre-shared-key` line's errors name keywords
//! only, and the key is the rest of the line (IOS's `LINE`), taken as written.

use std::net::Ipv4Addr;

use dmvpn_isakmp::consts::Group;
use dmvpn_isakmp::keys::Prf;
use dmvpn_isakmp::v2::crypto::{Encryption, Integrity};

use super::{
    Fail, IKEV2_POLICY, IKEV2_PROFILE, IKEV2_PROPOSAL, KEYRING, KEYRING_PEER, Mode, Opening,
    Origin, Parser, Result, Words,
};
use crate::config::{
    ErrorKind, Ikev2Dpd, KeyringPeer, LocalIdentity, PeerAddress, RemoteIdentity, Secret,
    grammar::{self, Match},
};

/// `crypto ikev2 …` besides the router's (`proposal`, `policy`, `keyring`, `profile`,
/// `cookie-challenge`).
const IKEV2_IOS: &[&str] = &[
    "authorization",
    "certificate-cache",
    "client",
    "diagnose",
    "dpd",
    "fragmentation",
    "http-url",
    "limit",
    "name-mangler",
    "nat",
    "redirect",
    "window",
];

/// IOS's integrity and PRF keywords, in [`INTEGRITY`]'s and [`PRF`]'s order.
const HASHES: &[&str] = &["md5", "sha1", "sha256", "sha384", "sha512"];
const INTEGRITY: [Integrity; 5] = [
    Integrity::HmacMd5_96,
    Integrity::HmacSha1_96,
    Integrity::HmacSha256_128,
    Integrity::HmacSha384_192,
    Integrity::HmacSha512_256,
];
const PRF: [Prf; 5] = [
    Prf::HmacMd5,
    Prf::HmacSha1,
    Prf::HmacSha256,
    Prf::HmacSha384,
    Prf::HmacSha512,
];

/// IOS's IKEv2 encryption keywords the router runs, in [`ENCRYPTION`]'s order.
const CIPHERS: &[&str] = &["3des", "aes-cbc-128", "aes-cbc-192", "aes-cbc-256"];
const ENCRYPTION: [Encryption; 4] = [
    Encryption::TripleDes,
    Encryption::AesCbc(128),
    Encryption::AesCbc(192),
    Encryption::AesCbc(256),
];

/// A keyword IOS takes that the router cannot run: an error (a warning with `lenient`).
fn refuse_ios(words: &Words<'_>, fail: Fail) -> Fail {
    match fail.kind {
        ErrorKind::Skipped { .. } => Fail {
            column: fail.column,
            kind: words.unsupported(fail.column).kind,
        },
        _ => fail,
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

impl Parser {
    /// `crypto ikev2 proposal|policy|keyring|profile NAME` and `crypto ikev2 cookie-challenge N`.
    pub(super) fn ikev2(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        let which = words.keyword_in(
            &[
                "proposal",
                "policy",
                "keyring",
                "profile",
                "cookie-challenge",
            ],
            IKEV2_IOS,
            "a `crypto ikev2` command",
        )?;
        if which == 4 {
            // IOS's range.
            let (_, n) = words.number("a number of half-open ikev2 sas", 1, 1000)?;
            self.end_once(
                words,
                Origin::CookieChallenge,
                self.place(column),
                "crypto ikev2 cookie-challenge",
            )?;
            self.config.ikev2_cookie_challenge = u32::try_from(n).ok();
            return Ok(());
        }
        let (_, name) = words.word(match which {
            0 => "a proposal name",
            1 => "a policy name",
            2 => "a keyring name",
            _ => "a profile name",
        })?;
        words.end()?;
        let at = self.place(column);
        let config = &mut self.config;
        let mut open = Opening {
            origins: &mut self.origins,
            at,
            name,
        };
        let mode = match which {
            0 => {
                Mode::Ikev2Proposal(open.block(&mut config.ikev2_proposals, Origin::Ikev2Proposal))
            }
            1 => Mode::Ikev2Policy(open.block(&mut config.ikev2_policies, Origin::Ikev2Policy)),
            2 => Mode::Keyring(open.block(&mut config.keyrings, Origin::Keyring)),
            _ => Mode::Ikev2Profile(open.block(&mut config.ikev2_profiles, Origin::Ikev2Profile)),
        };
        self.enter(mode);
        Ok(())
    }

    /// `crypto ikev2 proposal` mode: `encryption …`, `integrity …`, `prf …`, `group …`, each
    /// a list (a second line adds to the first).
    pub(super) fn ikev2_proposal(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let which = words.mode_keyword(IKEV2_PROPOSAL, 4, "an ikev2 proposal command")?;
        let (mut encryption, mut integrity, mut prf, mut groups) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        while words.peek().is_some() {
            match which {
                0 => {
                    let n = words
                        .keyword_in(CIPHERS, &["aes-gcm-128", "aes-gcm-256", "des"], "a cipher")
                        .map_err(|f| refuse_ios(words, f))?;
                    push_new(&mut encryption, ENCRYPTION[n]);
                }
                1 => {
                    let n = words.keyword(HASHES, "an integrity algorithm")?;
                    push_new(&mut integrity, INTEGRITY[n]);
                }
                2 => {
                    let n = words.keyword(HASHES, "a prf")?;
                    push_new(&mut prf, PRF[n]);
                }
                _ => {
                    let group = words.dh_group()?;
                    push_new::<Group>(&mut groups, group);
                }
            }
        }
        if encryption.is_empty() && integrity.is_empty() && prf.is_empty() && groups.is_empty() {
            return Err(Fail::at(
                words.end,
                ErrorKind::Expected {
                    expected: match which {
                        0 => "a cipher",
                        1 => "an integrity algorithm",
                        2 => "a prf",
                        _ => "a diffie-hellman group",
                    },
                    found: None,
                },
            ));
        }
        let Some(proposal) = self.config.ikev2_proposals.get_mut(index) else {
            return Ok(());
        };
        for e in encryption {
            push_new(&mut proposal.algorithms.encryption, e);
        }
        for i in integrity {
            push_new(&mut proposal.algorithms.integrity, i);
        }
        for p in prf {
            push_new(&mut proposal.algorithms.prf, p);
        }
        for g in groups {
            push_new(&mut proposal.algorithms.groups, g);
        }
        Ok(())
    }

    /// `crypto ikev2 policy` mode: `proposal NAME`, `match address local A`.
    pub(super) fn ikev2_policy(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let which = words.mode_keyword(IKEV2_POLICY, 2, "an ikev2 policy command")?;
        let Some(policy) = self.config.ikev2_policies.get(index) else {
            return Ok(());
        };
        if which == 0 {
            let (name_column, name) = words.word("a proposal name")?;
            words.end()?;
            if !policy.proposals.iter().any(|p| p == name) {
                let n = policy.proposals.len();
                self.origins.set(
                    Origin::Ikev2PolicyProposal(index, n),
                    self.place(name_column),
                );
                if let Some(policy) = self.config.ikev2_policies.get_mut(index) {
                    policy.proposals.push(name.to_owned());
                }
            }
            return Ok(());
        }
        words.keyword_in(&["address"], &["fvrf"], "`address` or `fvrf`")?;
        words.keyword_in(&["local"], &[], "`local`")?;
        words.skip_ipv6(column)?;
        let (_, address) = words.address("a local address")?;
        words.end()?;
        if let Some(policy) = self.config.ikev2_policies.get_mut(index) {
            push_new(&mut policy.match_local, address);
        }
        Ok(())
    }

    /// `crypto ikev2 keyring` mode: `peer NAME` opens the peer's mode.
    pub(super) fn keyring(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        words.mode_keyword(KEYRING, 1, "`peer`")?;
        let (_, name) = words.word("a peer name")?;
        words.end()?;
        let at = self.place(column);
        let Some(keyring) = self.config.keyrings.get_mut(index) else {
            return Ok(());
        };
        let mut open = Opening {
            origins: &mut self.origins,
            at,
            name,
        };
        let peer = open.block(&mut keyring.peers, |n| Origin::KeyringPeer(index, n));
        self.enter(Mode::KeyringPeer(index, peer));
        // (a peer's lines are indented deeper than `peer`, or typed after it)
        self.block_indented = false;
        Ok(())
    }

    /// A keyring's `peer` mode: `address A [MASK]`, `pre-shared-key [local|remote] [0] KEY`.
    pub(super) fn keyring_peer<'a>(
        &mut self,
        (index, peer): (usize, usize),
        words: &mut Words<'a>,
        line: &'a str,
    ) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let which = words.mode_keyword(KEYRING_PEER, 2, "a keyring peer command")?;
        if which == 0 {
            words.skip_ipv6(column)?;
            let (_, address) = words.address("a peer address")?;
            let mut mask = match words.peek() {
                Some((_, w)) if w.parse::<Ipv4Addr>().is_ok() => Some(words.mask()?.1),
                _ => None,
            };
            words.end()?;
            if address.is_unspecified() && mask.is_none() {
                mask = Some(Ipv4Addr::UNSPECIFIED);
            }
            self.origins.once(
                Origin::KeyringPeerAddress(index, peer),
                place,
                "keyring peer address",
            )?;
            if let Some(entry) = self.peer_mut(index, peer) {
                entry.address = Some(PeerAddress { address, mask });
            }
            return Ok(());
        }
        // `pre-shared-key [local|remote] [0|6] KEY`: a keyword is one only when a key follows.
        let remaining = |words: &Words<'_>| words.words.len() - words.next;
        let mut side = None;
        if remaining(words) > 1
            && let Some((_, word)) = words.peek()
            && let Match::Ours(n) = grammar::lookup(word, &["local", "remote"], &[])
        {
            words.next += 1;
            side = Some(n);
        }
        if remaining(words) > 1 && words.peek().is_some_and(|(_, w)| w == "6") {
            // IOS's type 6 is encrypted with the router's master key: it cannot be read here.
            return Err(Fail::at(
                column,
                ErrorKind::Unsupported {
                    command:
                        "pre-shared-key 6 (an encrypted key: paste it in clear text, as type 0)"
                            .to_owned(),
                    mode: words.mode,
                },
            ));
        }
        if remaining(words) > 1 && words.peek().is_some_and(|(_, w)| w == "0") {
            words.next += 1;
        }
        let Some(key) = words.rest(line).filter(|k| !k.is_empty()) else {
            return Err(Fail::at(
                words.end,
                ErrorKind::Expected {
                    expected: "a pre-shared key",
                    found: None,
                },
            ));
        };
        let key = Secret::new(key);
        self.origins.set(Origin::KeyringPeerKey(index, peer), place);
        if let Some(entry) = self.peer_mut(index, peer) {
            if side != Some(1) {
                entry.local_key = Some(key.clone());
            }
            if side != Some(0) {
                entry.remote_key = Some(key);
            }
        }
        Ok(())
    }

    fn peer_mut(&mut self, index: usize, peer: usize) -> Option<&mut KeyringPeer> {
        self.config.keyrings.get_mut(index)?.peers.get_mut(peer)
    }

    /// `crypto ikev2 profile` mode.
    pub(super) fn ikev2_profile(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let which = words.mode_keyword(IKEV2_PROFILE, 6, "an ikev2 profile command")?;
        match which {
            0 => {
                let remote = self.match_identity(words)?;
                self.origins
                    .set(Origin::Ikev2ProfileMatch(index), self.place(column));
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    push_new(&mut profile.match_remote, remote);
                }
            }
            1 => {
                words.keyword(&["local"], "`local`")?;
                let kind_column = words.column();
                let identity = match words
                    .keyword_in(
                        &["address", "fqdn"],
                        &["dn", "email", "key-id"],
                        "an identity",
                    )
                    .map_err(|f| refuse_ios(words, f))?
                {
                    0 => LocalIdentity::Address(words.address("a local address")?.1),
                    _ => LocalIdentity::Fqdn(words.word("a domain name")?.1.to_owned()),
                };
                words.end()?;
                let _ = kind_column;
                self.origins
                    .once(Origin::Ikev2ProfileIdentity(index), place, "identity local")?;
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    profile.identity_local = Some(identity);
                }
            }
            2 => {
                let side = words.keyword(&["local", "remote"], "`local` or `remote`")?;
                words
                    .keyword_in(&["pre-share"], &["ecdsa-sig", "eap", "rsa-sig"], "a method")
                    .map_err(|f| refuse_ios(words, f))?;
                if let Some((key_column, _)) = words.peek() {
                    // `pre-share key KEY`: a key in the profile (never quoted here).
                    return Err(Fail::at(
                        key_column,
                        ErrorKind::Unsupported {
                            command: "authentication pre-share key (a key in the profile: put it in a keyring)".to_owned(),
                            mode: words.mode,
                        },
                    ));
                }
                let (origin, what) = if side == 0 {
                    (Origin::Ikev2ProfileAuthLocal(index), "authentication local")
                } else {
                    (
                        Origin::Ikev2ProfileAuthRemote(index),
                        "authentication remote",
                    )
                };
                self.origins.once(origin, place, what)?;
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    if side == 0 {
                        profile.authentication_local = true;
                    } else {
                        profile.authentication_remote = true;
                    }
                }
            }
            3 => {
                words
                    .keyword_in(&["local"], &["aaa"], "`local`")
                    .map_err(|f| refuse_ios(words, f))?;
                let (name_column, name) = words.word("a keyring name")?;
                self.end_once(
                    words,
                    Origin::Ikev2ProfileKeyring(index),
                    self.place(name_column),
                    "keyring local",
                )?;
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    profile.keyring = Some(name.to_owned());
                }
            }
            4 => {
                let (_, seconds) = words.number("ikev2 sa lifetime", 120, 86_400)?;
                self.end_once(
                    words,
                    Origin::Ikev2ProfileLifetime(index),
                    place,
                    "lifetime",
                )?;
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    profile.lifetime = u32::try_from(seconds).ok();
                }
            }
            _ => {
                let (_, interval) = words.number("dpd interval", 10, 3600)?;
                let (_, retry) = words.number("dpd retry interval", 2, 60)?;
                let on_demand =
                    words.keyword(&["periodic", "on-demand"], "`periodic` or `on-demand`")? == 1;
                self.end_once(words, Origin::Ikev2ProfileDpd(index), place, "dpd")?;
                if let Some(profile) = self.config.ikev2_profiles.get_mut(index) {
                    profile.dpd = Some(Ikev2Dpd {
                        interval: u16::try_from(interval).unwrap_or(u16::MAX),
                        retry: u16::try_from(retry).unwrap_or(u16::MAX),
                        on_demand,
                    });
                }
            }
        }
        Ok(())
    }

    /// `match identity remote address A [MASK] | any | fqdn NAME` (after `match`); IOS's other
    /// matches (`address local`, `fvrf`) are skipped, certificates refused.
    fn match_identity(&self, words: &mut Words<'_>) -> Result<RemoteIdentity> {
        words
            .keyword_in(
                &["identity"],
                &["address", "certificate", "fvrf"],
                "`identity`",
            )
            .map_err(|f| match words.path.last() {
                Some(&"certificate") => refuse_ios(words, f),
                _ => f,
            })?;
        words.keyword(&["remote"], "`remote`")?;
        let remote = match words
            .keyword_in(
                &["address", "any", "fqdn"],
                &["email", "key-id"],
                "`address`, `any` or `fqdn`",
            )
            .map_err(|f| refuse_ios(words, f))?
        {
            0 => {
                let column = words.column();
                words.skip_ipv6(column)?;
                let (_, address) = words.address("a remote address")?;
                let mask = match words.peek() {
                    Some((_, w)) if w.parse::<Ipv4Addr>().is_ok() => Some(words.mask()?.1),
                    _ => None,
                };
                RemoteIdentity::Address(PeerAddress { address, mask })
            }
            1 => RemoteIdentity::Any,
            _ => {
                let (column, name) = words.word("a domain name")?;
                if name.eq_ignore_ascii_case("domain") {
                    return Err(words.unsupported(column));
                }
                RemoteIdentity::Fqdn(name.to_owned())
            }
        };
        words.end()?;
        Ok(remote)
    }
}
