//! An `AF_PACKET` raw socket bound to one interface (packet(7)), through `pnet_datalink`, which
//! wraps the system calls behind a safe API (`socket2` and `nix` name the address family but build
//! a `sockaddr_ll` only from raw parts, so binding to an interface would need `unsafe` here).

use std::fmt;
use std::io;

use pnet_datalink::{Channel, Config, DataLinkSender};

use super::FrameSink;

/// A raw packet socket that sends whole Ethernet frames on one interface. Opening it needs
/// `CAP_NET_RAW` (root).
pub struct PacketSocket {
    name: String,
    tx: Box<dyn DataLinkSender>,
}

impl fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSocket")
            .field("interface", &self.name)
            .finish_non_exhaustive()
    }
}

impl PacketSocket {
    /// Opens a packet socket on the interface called `name`.
    ///
    /// # Errors
    ///
    /// No such interface, not an Ethernet-like one, or no permission (`CAP_NET_RAW`).
    pub fn open(name: &str) -> io::Result<Self> {
        let interface = pnet_datalink::interfaces()
            .into_iter()
            .find(|iface| iface.name == name)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no interface named {name}"),
                )
            })?;
        // Frames are only sent; a small receive ring keeps the unused receive side cheap.
        let config = Config {
            read_buffer_size: 2048,
            write_buffer_size: 65536,
            ..Config::default()
        };
        match pnet_datalink::channel(&interface, config)? {
            Channel::Ethernet(tx, _rx) => Ok(Self {
                name: name.to_owned(),
                tx,
            }),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{name}: not an Ethernet interface"),
            )),
        }
    }
}

impl FrameSink for PacketSocket {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.tx
            .send_to(frame, None)
            .unwrap_or_else(|| Err(io::Error::other("packet socket closed")))
    }
}
