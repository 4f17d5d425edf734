//! The prost codec every generated service and client uses, with a smaller first encode
//! buffer: tonic's default allocates 8 KiB for each call's responses up front, which for a
//! server holding 10,000 `WatchMember` streams was 80 MB of mostly empty buffers. The
//! buffer still grows to fit any message.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Bytes allocated first for a call's encoded messages (tonic's default: 8 KiB).
const ENCODE_BUFFER: usize = 1024;
/// Encoded bytes after which a stream yields them to the transport (tonic's default).
const YIELD_THRESHOLD: usize = 32 * 1024;

/// [`ProstCodec`] with [`ENCODE_BUFFER`].
#[derive(Debug, Clone)]
pub struct AtoneCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for AtoneCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for AtoneCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::new(ENCODE_BUFFER, YIELD_THRESHOLD))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(BufferSettings::default())
    }
}
