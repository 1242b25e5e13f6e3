//! pcap (tcpdump.org `pcap-savefile(5)`): the file header and the 16-byte record headers.

use std::io::Read;

use pcap_file::pcap::PcapParser;
use pcap_file::{Endianness, TsResolution};

use super::{
    CaptureError, CaptureReader, Interface, LinkType, Location, MAX_RECORD_LEN, Position, Result,
    State, Timestamp, read_u32,
};

impl<R: Read> CaptureReader<R> {
    pub(super) fn read_pcap_header(&mut self) -> Result<()> {
        self.require(24, "pcap file header", None)?;
        let (_, parser) =
            PcapParser::new(self.unread()).map_err(|_| CaptureError::UnknownFormat {
                magic: self.unread().first_chunk().copied().unwrap_or_default(),
            })?;
        let header = parser.header();
        let big_endian = header.endianness == Endianness::Big;
        let nanosecond = header.ts_resolution == TsResolution::NanoSecond;
        if header.version_major != 2 {
            return Err(CaptureError::invalid_field(
                None,
                4,
                "version major",
                u64::from(header.version_major),
            ));
        }
        // The link type's upper 16 bits carry the FCS length and flags (pcap-savefile(5)).
        let link_type = LinkType(u32::from(header.datalink) & 0xffff);
        let resolution = if nanosecond { 9 } else { 6 };
        self.state = State::Pcap {
            parser: Some(parser),
            big_endian,
            nanosecond,
            interface: pcap_interface(link_type, header.snaplen, resolution),
        };
        self.consume(24);
        Ok(())
    }

    pub(super) fn read_pcap_record(&mut self) -> Result<Option<Location>> {
        let State::Pcap {
            parser: Some(_),
            big_endian,
            nanosecond,
            ref interface,
        } = self.state
        else {
            return Ok(None);
        };
        let link_type = interface.link_type;
        let frame = Some(self.next_number);
        if !self.next_header(16, "packet record header", frame)? {
            return Ok(None);
        }
        let header = self.unread();
        let incl_len = read_u32(header, 8, big_endian);
        if incl_len as usize > MAX_RECORD_LEN {
            return Err(CaptureError::TooLarge {
                at: Position {
                    frame,
                    offset: self.offset + 8,
                },
                field: "incl_len",
                len: u64::from(incl_len),
                max: MAX_RECORD_LEN as u64,
            });
        }
        let record_len = 16 + incl_len as usize;
        self.require(record_len, "packet data", frame)?;
        // The record header (pcap-savefile(5)): ts_sec, ts_frac, incl_len, orig_len.
        let header = self.unread();
        let (ts_sec, ts_frac) = (
            read_u32(header, 0, big_endian),
            read_u32(header, 4, big_endian),
        );
        let orig_len = read_u32(header, 12, big_endian);
        let scale = if nanosecond { 1 } else { 1000 };
        let nanos = u64::from(ts_frac) * scale;
        let timestamp = Timestamp::new(
            i64::from(ts_sec) + (nanos / 1_000_000_000) as i64,
            (nanos % 1_000_000_000) as u32,
        );
        let location = Location {
            timestamp,
            link_type,
            interface: 0,
            data: self.start + 16..self.start + record_len,
            original_len: orig_len,
            offset: self.offset,
        };
        self.consume(record_len);
        Ok(Some(location))
    }
}

pub(super) fn pcap_interface(link_type: LinkType, snaplen: u32, ts_resolution: u8) -> Interface {
    Interface {
        link_type,
        snaplen,
        name: None,
        ts_resolution,
        ts_offset: 0,
    }
}
