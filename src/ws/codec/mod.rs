//! The sans-I/O frame codec: frames, masking, fragmentation, UTF-8, close codes and
//! permessage-deflate.
