//! `router eigrp` mode.

use super::{EIGRP, Origin, Parser, Result, Words};
use crate::config::{Eigrp, MaximumPrefix, Network, grammar};

impl Parser {
    pub(super) fn eigrp(&mut self, index: usize, words: &mut Words<'_>) -> Result<()> {
        let column = words.column();
        let place = self.place(column);
        let negated = words.eat("no");
        if negated {
            words.path.push("no");
            if words.keyword_in(&EIGRP[..3], grammar::EIGRP_IOS, "a `router eigrp` command")? == 1 {
                self.end_once(words, Origin::AutoSummary(index), place, "auto-summary")?;
                self.router_block(index).auto_summary = Some(false);
                return Ok(());
            }
            return Err(words.skipped(column));
        }
        match words.keyword_in(&EIGRP[..4], grammar::EIGRP_IOS, "a `router eigrp` command")? {
            0 => {
                let (_, address) = words.address("a network address")?;
                let wildcard = match words.peek() {
                    Some(_) => Some(words.address("a wildcard mask")?.1),
                    None => None,
                };
                words.end()?;
                let network = Network { address, wildcard };
                let networks = &mut self.router_block(index).networks;
                if networks.contains(&network) {
                    return Ok(()); // IOS takes it again as a no-op
                }
                networks.push(network);
                let n = networks.len() - 1;
                self.origins.set(Origin::Network(index, n), place);
            }
            1 => {
                self.end_once(words, Origin::AutoSummary(index), place, "auto-summary")?;
                self.router_block(index).auto_summary = Some(true);
            }
            3 => {
                // IOS: `maximum-prefix <1-4294967295> [<1-100>] [warning-only]` (the dampened and
                // restart forms are not run here, and are refused by `end`).
                let (_, max) =
                    words.number("a maximum number of prefixes", 1, u64::from(u32::MAX))?;
                let threshold = match words.peek() {
                    Some((_, w)) if w.bytes().all(|b| b.is_ascii_digit()) => {
                        Some(words.number("a threshold percentage", 1, 100)?.1)
                    }
                    _ => None,
                };
                let warning_only = words.eat("warning-only");
                words.end()?;
                self.router_block(index).maximum_prefix = Some(MaximumPrefix {
                    max: u32::try_from(max).unwrap_or(u32::MAX),
                    threshold: threshold.and_then(|t| u8::try_from(t).ok()),
                    warning_only,
                });
            }
            _ => {
                words.keyword_in(
                    &["router-id"],
                    grammar::EIGRP_EIGRP_IOS,
                    "an `eigrp` command",
                )?;
                let (_, id) = words.address("a router id")?;
                self.end_once(words, Origin::RouterId(index), place, "eigrp router-id")?;
                self.router_block(index).router_id = Some(id);
            }
        }
        Ok(())
    }

    pub(super) fn router_block(&mut self, index: usize) -> &mut Eigrp {
        &mut self.config.eigrp[index]
    }
}
