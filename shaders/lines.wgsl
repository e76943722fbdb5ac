// Coloured line segments in world space (trails, axes), depth-tested against the scene, drawn
// `globals.viewport.z` pixels wide: every segment is one instance, expanded here into a
// screen-space quad (two triangles) about its projected ends, since wgpu has no wide lines.

// `Globals` and binding 0 come from globals.wgsl.

struct SegmentIn {
    @location(0) a: vec3<f32>,
    @location(1) color_a: vec4<f32>,
    @location(2) b: vec3<f32>,
    @location(3) color_b: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, s: SegmentIn) -> VertexOut {
    var out: VertexOut;
    var pa = globals.view_proj * vec4<f32>(s.a, 1.0);
    var pb = globals.view_proj * vec4<f32>(s.b, 1.0);
    // Clip the segment at the near side of the camera, so both ends project.
    let near = 1e-3;
    if (pa.w < near && pb.w < near) {
        out.clip = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        out.color = vec4<f32>(0.0);
        return out;
    }
    if (pa.w < near) {
        pa = mix(pa, pb, (near - pa.w) / (pb.w - pa.w));
    }
    if (pb.w < near) {
        pb = mix(pb, pa, (near - pb.w) / (pa.w - pb.w));
    }
    let half_size = globals.viewport.xy * 0.5;
    let sa = pa.xy / pa.w * half_size;
    let sb = pb.xy / pb.w * half_size;
    var dir = sb - sa;
    if (length(dir) < 1e-6) {
        dir = vec2<f32>(1.0, 0.0);
    }
    let normal = vec2<f32>(-dir.y, dir.x) / length(dir);
    // Corners 0..5 of the two triangles: (end, side).
    var ends = array<f32, 6>(0.0, 0.0, 1.0, 1.0, 0.0, 1.0);
    var sides = array<f32, 6>(-1.0, 1.0, -1.0, -1.0, 1.0, 1.0);
    let end = ends[vi];
    let p = mix(pa, pb, end);
    let offset_px = normal * sides[vi] * globals.viewport.z * 0.5;
    out.clip = vec4<f32>(p.xy + offset_px / half_size * p.w, p.z, p.w);
    out.color = mix(s.color_a, s.color_b, end);
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return in.color;
}
