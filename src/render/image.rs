//! PNG encoding of rendered frames: one picture, or an animation (APNG).

/// Encodes tightly packed RGBA8 rows as a PNG file's bytes.
pub fn encode_png(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgba).map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

/// Encodes `frames` RGBA8 frames of `width` x `height`, shown `delay_ms` each and looped, as an
/// animated PNG (APNG) file's bytes. `frame(i)` gives frame `i`'s rows as it is written, so a
/// caller can render (or decode) one frame at a time.
pub fn encode_apng(
    width: u32,
    height: u32,
    frames: usize,
    delay_ms: u16,
    mut frame: impl FnMut(usize) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let frame_count = u32::try_from(frames).map_err(|e| e.to_string())?;
        encoder
            .set_animated(frame_count, 0)
            .map_err(|e| format!("APNG animation control: {e}"))?;
        encoder
            .set_frame_delay(delay_ms.max(1), 1000)
            .map_err(|e| format!("APNG frame delay: {e}"))?;
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        for i in 0..frames {
            writer
                .write_image_data(&frame(i)?)
                .map_err(|e| format!("APNG frame {i}: {e}"))?;
        }
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

/// The RGBA8 rows of a PNG written by [`encode_png`].
pub fn decode_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| e.to_string())?;
    let mut rgba = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut rgba).map_err(|e| e.to_string())?;
    rgba.truncate(info.buffer_size());
    Ok(rgba)
}
