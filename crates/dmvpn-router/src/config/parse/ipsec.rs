//! `crypto ipsec transform-set` and `crypto ipsec profile`: their headers and their modes.

use super::words::key_bits;
use super::{
    Fail, MAX_PROFILE_TRANSFORM_SETS, Mode, Origin, PROFILE, Parser, Place, Result, TRANSFORM,
    Words,
};
use dmvpn_isakmp::consts::Group;

use crate::config::{ErrorKind, EspEncryption, EspIntegrity, EspMode, TransformSet};

impl Parser {
    pub(super) fn transform_set(&mut self, words: &mut Words<'_>, column: usize) -> Result<()> {
        const OURS: &[&str] = &[
            "esp-des",
            "esp-3des",
            "esp-aes",
            "esp-gcm",
            "esp-null",
            "esp-md5-hmac",
            "esp-sha-hmac",
            "esp-sha256-hmac",
            "esp-sha384-hmac",
            "esp-sha512-hmac",
        ];
        const IOS: &[&str] = &[
            "ah-md5-hmac",
            "ah-sha-hmac",
            "ah-sha256-hmac",
            "ah-sha384-hmac",
            "ah-sha512-hmac",
            "comp-lzs",
            "esp-gmac",
            "esp-seal",
        ];
        let (_, name) = words.word("a transform-set name")?;
        let (mut encryption, mut integrity) = (None, None);
        while let Some((word_column, _)) = words.peek() {
            let index = match words.keyword_in(OURS, IOS, "a transform") {
                Ok(index) => index,
                Err(Fail {
                    kind: ErrorKind::Skipped { .. },
                    ..
                }) => return Err(words.unsupported(word_column)),
                Err(fail) => return Err(fail),
            };
            let duplicate = |what| {
                Fail::at(
                    word_column,
                    ErrorKind::Duplicate {
                        what,
                        first: self.line,
                    },
                )
            };
            if index < 5 {
                if encryption.is_some() {
                    return Err(duplicate("esp encryption transform"));
                }
                encryption = Some(match index {
                    0 => EspEncryption::Des,
                    1 => EspEncryption::TripleDes,
                    2 => EspEncryption::Aes(key_bits(words, &[128, 192, 256])?.unwrap_or(128)),
                    3 => EspEncryption::Gcm(key_bits(words, &[128, 256])?.unwrap_or(128)),
                    _ => EspEncryption::Null,
                });
            } else {
                if integrity.is_some() {
                    return Err(duplicate("esp integrity transform"));
                }
                integrity = Some(match index {
                    5 => EspIntegrity::Md5,
                    6 => EspIntegrity::Sha,
                    7 => EspIntegrity::Sha256,
                    8 => EspIntegrity::Sha384,
                    _ => EspIntegrity::Sha512,
                });
            }
        }
        let Some(encryption) = encryption else {
            return Err(Fail::at(
                words.end,
                ErrorKind::Expected {
                    expected: "an esp encryption transform (esp-des, esp-3des, esp-aes, esp-gcm or esp-null)",
                    found: None,
                },
            ));
        };
        if matches!(encryption, EspEncryption::Gcm(_)) && integrity.is_some() {
            return Err(Fail::at(
                column,
                ErrorKind::Conflict {
                    command: "esp-gcm",
                    other: "an esp-*-hmac transform (gcm authenticates by itself)",
                },
            ));
        }
        if let Some(first) = self
            .config
            .transform_sets
            .iter()
            .position(|t| t.name == name)
        {
            let first = Origin::TransformSet(first);
            return Err(self.origins.duplicate(first, column, "this transform-set"));
        }
        self.config.transform_sets.push(TransformSet {
            name: name.to_owned(),
            encryption,
            integrity,
            mode: None,
        });
        let index = self.config.transform_sets.len() - 1;
        self.origins
            .set(Origin::TransformSet(index), self.place(column));
        self.enter(Mode::TransformSet(index));
        Ok(())
    }

    pub(super) fn transform_mode(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        words.mode_keyword(TRANSFORM, 1, "`mode`")?;
        let mode = match words.keyword(&["transport", "tunnel"], "`transport` or `tunnel`")? {
            0 => EspMode::Transport,
            _ => EspMode::Tunnel,
        };
        // `mode transport require`: no fallback to tunnel mode; transport is all there is here.
        words.eat_abbreviated("require");
        self.end_once(
            words,
            Origin::TransformMode(index),
            self.place(column),
            "mode",
        )?;
        if let Some(set) = self.config.transform_sets.get_mut(index) {
            set.mode = Some(mode);
        }
        Ok(())
    }

    pub(super) fn profile(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        words.mode_keyword(PROFILE, 1, "a `crypto ipsec profile` command")?;
        match words.keyword_in(
            &[
                "transform-set",
                "pfs",
                "security-association",
                "ikev2-profile",
            ],
            &["identity", "isakmp-profile", "nat", "reverse-route"],
            "`transform-set`, `pfs`, `security-association` or `ikev2-profile`",
        )? {
            3 => {
                let (name_column, name) = words.word("an ikev2 profile name")?;
                self.end_once(
                    words,
                    Origin::ProfileIkev2(index),
                    Place {
                        column: name_column,
                        ..place
                    },
                    "set ikev2-profile",
                )?;
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.ikev2_profile = Some(name.to_owned());
                }
            }
            0 => {
                // IOS takes up to six transform sets here; a seventh word is an error (one
                // diagnostic for the line, not one per undefined name of an endless list).
                let mut names = Vec::new();
                while names.len() < MAX_PROFILE_TRANSFORM_SETS
                    && let Some((name_column, name)) = words.peek()
                {
                    words.next += 1;
                    names.push((name_column, name.to_owned()));
                }
                if names.is_empty() {
                    words.word("a transform-set name")?;
                }
                words.end()?;
                let first = Origin::ProfileSet(index, 0);
                if self.origins.get(first).is_some() {
                    return Err(self.origins.duplicate(first, column, "set transform-set"));
                }
                for (n, (name_column, _)) in names.iter().enumerate() {
                    self.origins.set(
                        Origin::ProfileSet(index, n),
                        Place {
                            column: *name_column,
                            ..place
                        },
                    );
                }
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.transform_sets = names.into_iter().map(|(_, n)| n).collect();
                }
            }
            1 => {
                // `set pfs` alone is group 1.
                let group = if words.peek().is_none() {
                    Group::MODP_768
                } else {
                    let (group_column, _) = words.peek().unwrap_or((column, ""));
                    match words.keyword_in(
                        &["group1", "group2", "group5", "group14"],
                        &[
                            "group15", "group16", "group19", "group20", "group21", "group24",
                        ],
                        "a pfs group",
                    ) {
                        Ok(0) => Group::MODP_768,
                        Ok(1) => Group::MODP_1024,
                        Ok(2) => Group::MODP_1536,
                        Ok(_) => Group::MODP_2048,
                        Err(Fail {
                            kind: ErrorKind::Skipped { .. },
                            ..
                        }) => return Err(words.unsupported(group_column)),
                        Err(fail) => return Err(fail),
                    }
                };
                self.end_once(words, Origin::ProfilePfs(index), place, "set pfs")?;
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    profile.pfs = Some(group);
                }
            }
            _ => {
                words.keyword_in(
                    &["lifetime"],
                    &["dfbit", "ecn", "idle-time", "level", "replay"],
                    "`lifetime`",
                )?;
                let kilobytes = words.keyword_in(
                    &["seconds", "kilobytes"],
                    &["days"],
                    "`seconds` or `kilobytes`",
                )? == 1;
                // IOS's ranges.
                let (origin, what, (_, value)) = if kilobytes {
                    (
                        Origin::ProfileLifetimeKb(index),
                        "set security-association lifetime kilobytes",
                        words.number("ipsec sa lifetime in kilobytes", 2560, 4_294_967_295)?,
                    )
                } else {
                    (
                        Origin::ProfileLifetime(index),
                        "set security-association lifetime seconds",
                        words.number("ipsec sa lifetime", 120, 2_592_000)?,
                    )
                };
                self.end_once(words, origin, place, what)?;
                if let Some(profile) = self.config.ipsec_profiles.get_mut(index) {
                    if kilobytes {
                        profile.lifetime_kilobytes = Some(value);
                    } else {
                        profile.lifetime = u32::try_from(value).ok();
                    }
                }
            }
        }
        Ok(())
    }
}
