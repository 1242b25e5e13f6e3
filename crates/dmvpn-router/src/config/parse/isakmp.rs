//! `crypto` global commands (`crypto isakmp key`, the policy header) and `crypto isakmp policy`
//! mode.

use std::net::Ipv4Addr;

use dmvpn_isakmp::crypto::Cipher;
use dmvpn_proto::ike::Hash;

use super::words::key_bits;
use super::{Fail, Mode, Opening, Origin, POLICY, Parser, Result, Words};
use crate::config::{
    ErrorKind, IsakmpKey, IsakmpPolicy, Secret,
    grammar::{self, Match},
};

impl Parser {
    /// `crypto call admission limit ike in-negotiation-sa N` and `… ike sa N` (IOS's ranges);
    /// IOS's other call admission commands (`load`, `ikev2`) are skipped.
    fn call_admission(&mut self, words: &mut Words<'_>) -> Result<()> {
        words.keyword_in(&["admission"], &[], "a `crypto call` command")?;
        words.keyword_in(&["limit"], &["load"], "a `crypto call admission` command")?;
        words.keyword_in(
            &["ike"],
            &["ikev2"],
            "a `crypto call admission limit` command",
        )?;
        let which = words.keyword_in(
            &["in-negotiation-sa", "sa"],
            &[],
            "a `crypto call admission limit ike` command",
        )?;
        let (_, n) = match which {
            0 => words.number("a number of IKE SAs in negotiation", 10, 99_999)?,
            _ => words.number("a number of IKE SAs", 0, 99_999)?,
        };
        words.end()?;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match which {
            0 => self.config.ike_in_negotiation_sa = Some(n),
            _ => self.config.ike_sa_limit = Some(n),
        }
        Ok(())
    }

    pub(super) fn crypto(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        match words.keyword_in(
            &["isakmp", "ipsec", "call", "ikev2"],
            grammar::CRYPTO_IOS,
            "a `crypto` command",
        )? {
            2 => self.call_admission(words)?,
            3 => self.ikev2(words, column)?,
            0 => match words.keyword_in(
                &["policy", "key"],
                grammar::ISAKMP_IOS,
                "a `crypto isakmp` command",
            )? {
                0 => {
                    let (_, priority) = words.number("an isakmp policy priority", 1, 10_000)?;
                    words.end()?;
                    let priority = u16::try_from(priority).unwrap_or(u16::MAX);
                    let place = self.place(column);
                    let policies = &mut self.config.isakmp_policies;
                    let index = match policies.iter().position(|p| p.priority == priority) {
                        Some(index) => index,
                        None => {
                            policies.push(IsakmpPolicy {
                                priority,
                                ..IsakmpPolicy::default()
                            });
                            self.origins.set(Origin::Policy(policies.len() - 1), place);
                            policies.len() - 1
                        }
                    };
                    self.enter(Mode::Policy(index));
                }
                _ => self.isakmp_key(words, column)?,
            },
            _ => match words.keyword_in(
                &["transform-set", "profile"],
                grammar::IPSEC_IOS,
                "a `crypto ipsec` command",
            )? {
                0 => self.transform_set(words, column)?,
                _ => {
                    let (_, name) = words.word("a profile name")?;
                    words.end()?;
                    let mut open = Opening {
                        at: self.place(column),
                        origins: &mut self.origins,
                        name,
                    };
                    let index = open.block(&mut self.config.ipsec_profiles, Origin::Profile);
                    self.enter(Mode::Profile(index));
                }
            },
        }
        Ok(())
    }

    /// `crypto isakmp key [0|6] KEY {address A [MASK] | address ipv6 … | hostname H}
    /// [no-xauth]`. `address 0.0.0.0` without a mask is IOS's wildcard, as `0.0.0.0 0.0.0.0`.
    pub(super) fn isakmp_key(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        let (key_column, mut key) = words.word("a pre-shared key")?;
        let typed = |words: &Words<'_>| {
            words.peek().is_some_and(|(_, w)| {
                !matches!(
                    grammar::lookup(w, &["address", "hostname"], &[]),
                    Match::Ours(_)
                )
            })
        };
        if key == "6" && typed(words) {
            // IOS's type 6 is encrypted with the router's master key: it cannot be read here.
            return Err(Fail::at(
                key_column,
                ErrorKind::Unsupported {
                    command:
                        "crypto isakmp key 6 (an encrypted key: paste it in clear text, as type 0)"
                            .to_owned(),
                    mode: None,
                },
            ));
        }
        // `0` is the "unencrypted" type, unless it is the key itself.
        if key == "0" && typed(words) {
            key = words.word("a pre-shared key")?.1;
        }
        let kind_column = words.column();
        if words.keyword(&["address", "hostname"], "`address` or `hostname`")? == 1 {
            // A key by peer name needs IKE identities by name: not run.
            return Err(words.unsupported(kind_column));
        }
        if words
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case("ipv6"))
        {
            words.path = vec!["crypto", "isakmp", "key", "address", "ipv6"];
            return Err(words.skipped(column));
        }
        let (_, address) = words.address("a peer address")?;
        let mut mask = match words.peek() {
            Some((_, w)) if w.parse::<Ipv4Addr>().is_ok() => Some(words.mask()?.1),
            _ => None,
        };
        words.eat_abbreviated("no-xauth");
        words.end()?;
        if address.is_unspecified() && mask.is_none() {
            mask = Some(Ipv4Addr::UNSPECIFIED);
        }
        let index = self.config.isakmp_keys.len();
        if let Some(first) = self
            .config
            .isakmp_keys
            .iter()
            .position(|k| k.address == address && k.mask == mask)
        {
            let what = "crypto isakmp key for this address";
            return Err(self.origins.duplicate(Origin::Key(first), column, what));
        }
        self.config.isakmp_keys.push(IsakmpKey {
            key: Secret::new(key),
            address,
            mask,
        });
        self.origins.set(Origin::Key(index), self.place(key_column));
        Ok(())
    }

    pub(super) fn policy(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let unsupported = |words: &Words<'_>, fail: Fail| match fail.kind {
            ErrorKind::Skipped { .. } => Fail {
                column: fail.column,
                kind: words.unsupported(fail.column).kind,
            },
            _ => fail,
        };
        match words.mode_keyword(POLICY, 5, "an isakmp policy command")? {
            0 => {
                let encryption = match words.keyword(&["des", "3des", "aes"], "des, 3des or aes")? {
                    0 => Cipher::Des,
                    1 => Cipher::TripleDes,
                    _ => match key_bits(words, &[128, 192, 256])? {
                        Some(192) => Cipher::Aes192,
                        Some(256) => Cipher::Aes256,
                        _ => Cipher::Aes128,
                    },
                };
                self.end_once(words, Origin::PolicyEncryption(index), place, "encryption")?;
                self.isakmp(index).encryption = Some(encryption);
            }
            1 => {
                let hash = match words
                    .keyword_in(&["md5", "sha", "sha256"], &["sha384", "sha512"], "a hash")
                    .map_err(|f| unsupported(words, f))?
                {
                    0 => Hash::Md5,
                    1 => Hash::Sha1,
                    _ => Hash::Sha256,
                };
                self.end_once(words, Origin::PolicyHash(index), place, "hash")?;
                self.isakmp(index).hash = Some(hash);
            }
            2 => {
                let group = words.dh_group()?;
                self.end_once(words, Origin::PolicyGroup(index), place, "group")?;
                self.isakmp(index).group = Some(group);
            }
            3 => {
                // Certificates: the policy is not offered (skipped, with a warning); with no
                // pre-share policy at all, the semantic check says so.
                words.keyword_in(
                    &["pre-share"],
                    &["ecdsa-sig", "rsa-encr", "rsa-sig"],
                    "an authentication method",
                )?;
                self.end_once(
                    words,
                    Origin::PolicyAuthentication(index),
                    place,
                    "authentication",
                )?;
                self.isakmp(index).pre_share = true;
            }
            _ => {
                let (_, seconds) = words.number("isakmp lifetime", 60, 86_400)?;
                self.end_once(words, Origin::PolicyLifetime(index), place, "lifetime")?;
                self.isakmp(index).lifetime = u32::try_from(seconds).ok();
            }
        }
        Ok(())
    }

    pub(super) fn isakmp(&mut self, index: usize) -> &mut IsakmpPolicy {
        &mut self.config.isakmp_policies[index]
    }
}
