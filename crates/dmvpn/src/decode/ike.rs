//! IKEv1 decryption for the decoder: one [`IkeSaState`] per initiator cookie with a known key.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use dmvpn_isakmp::crypto::IkeSaState;
use dmvpn_isakmp::keys::{Ikev1Key, Secret};
use dmvpn_isakmp::{Message, PayloadType};

/// At most this many IKE SAs are followed at once; beyond it the oldest knowledge is dropped.
const MAX_SAS: usize = 4096;

/// The encryption keys (Ka) of Wireshark's `ikev1_decryption_table`, by initiator cookie, and the
/// state of each IKE SA seen so far (its IVs chain from message to message, RFC 2409 Appendix B).
/// The keys are shared by clones and forks (one table however many decoders); the state is each
/// one's own.
#[derive(Clone, Default)]
pub struct IkeKeys {
    keys: Arc<HashMap<[u8; 8], Secret>>,
    states: HashMap<[u8; 8], IkeSaState>,
    /// The NAT-D payload type agreed by NAT-T vendor IDs, per SA, for SAs without a key too.
    nat_d: HashMap<[u8; 8], PayloadType>,
}

impl fmt::Debug for IkeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IkeKeys")
            .field("keys", &self.keys.len())
            .field("sas", &self.states.len())
            .finish_non_exhaustive()
    }
}

/// What the decoder learnt from one ISAKMP message.
pub(super) struct IkeOutcome {
    /// The decrypted payload chain (with padding), for an encrypted message of a known SA.
    pub(super) plaintext: Option<Vec<u8>>,
    /// Why an encrypted message of a known SA did not decrypt.
    pub(super) error: Option<dmvpn_isakmp::crypto::DecryptError>,
    /// The NAT-D payload type in force for this SA.
    pub(super) nat_d: Option<PayloadType>,
}

impl IkeKeys {
    /// Adds the keys of an `ikev1_decryption_table`; a later key for the same initiator cookie
    /// replaces the earlier one.
    pub fn extend(&mut self, keys: impl IntoIterator<Item = Ikev1Key>) {
        let table = Arc::make_mut(&mut self.keys);
        for key in keys {
            table.insert(key.initiator_cookie, key.encryption_key);
        }
    }

    /// How many keys there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The same keys, no IKE SA seen yet.
    pub(super) fn fork(&self) -> Self {
        Self {
            keys: Arc::clone(&self.keys),
            ..Self::default()
        }
    }

    /// Feeds one message of an IKE SA, in capture order.
    pub(super) fn process(&mut self, message: &Message<'_>) -> IkeOutcome {
        let cookie = message.header.initiator_cookie;
        let mut outcome = IkeOutcome {
            plaintext: None,
            error: None,
            nat_d: self.nat_d.get(&cookie).copied(),
        };
        if let Some(key) = self.keys.get(&cookie) {
            if self.states.len() >= MAX_SAS && !self.states.contains_key(&cookie) {
                self.states.clear();
            }
            let state = self
                .states
                .entry(cookie)
                .or_insert_with(|| IkeSaState::new(cookie, key.clone()));
            match state.process(message) {
                Ok(plaintext) => outcome.plaintext = plaintext,
                Err(error) => outcome.error = Some(error),
            }
            outcome.nat_d = state.nat_d().or(outcome.nat_d);
        } else if let Some(payloads) = message.payloads() {
            outcome.nat_d = dmvpn_isakmp::message::learn_nat_d(payloads, outcome.nat_d);
        }
        if let Some(nat_d) = outcome.nat_d {
            if self.nat_d.len() >= MAX_SAS {
                self.nat_d.clear();
            }
            self.nat_d.insert(cookie, nat_d);
        }
        outcome
    }
}
