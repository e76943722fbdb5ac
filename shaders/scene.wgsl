// Lit, instanced MuJoCo geoms with a shadow map, a checker floor and selection tint.
// Every instance is a unit primitive (sphere, cylinder, box, plane quad or a model mesh)
// scaled per axis, rotated and translated into the world (MuJoCo's z-up frame).

// `Globals` and binding 0 come from globals.wgsl.
@group(0) @binding(1) var shadow_map: texture_depth_2d;
@group(0) @binding(2) var shadow_sampler: sampler_comparison;

const FLAG_CHECKER: u32 = 1u;
const FLAG_SELECTED: u32 = 2u;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
};

struct InstanceIn {
    // Columns of world_from_local's rotation; w holds the scale along that local axis.
    @location(2) col0: vec4<f32>,
    @location(3) col1: vec4<f32>,
    @location(4) col2: vec4<f32>,
    @location(5) translation: vec3<f32>,
    @location(6) color: vec4<f32>,
    @location(7) flags: u32,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec4<f32>,
    @location(3) @interpolate(flat) flags: u32,
};

fn world_position(v: VertexIn, inst: InstanceIn) -> vec3<f32> {
    let local = v.position * vec3<f32>(inst.col0.w, inst.col1.w, inst.col2.w);
    return inst.col0.xyz * local.x + inst.col1.xyz * local.y + inst.col2.xyz * local.z
        + inst.translation;
}

@vertex
fn vs_main(v: VertexIn, inst: InstanceIn) -> VertexOut {
    var out: VertexOut;
    let world = world_position(v, inst);
    // Non-uniform scale: normals transform with the inverse scale.
    let scale = max(vec3<f32>(inst.col0.w, inst.col1.w, inst.col2.w), vec3<f32>(1e-6));
    let n = v.normal / scale;
    out.normal = normalize(inst.col0.xyz * n.x + inst.col1.xyz * n.y + inst.col2.xyz * n.z);
    out.world = world;
    out.clip = globals.view_proj * vec4<f32>(world, 1.0);
    out.color = inst.color;
    out.flags = inst.flags;
    return out;
}

@vertex
fn vs_shadow(v: VertexIn, inst: InstanceIn) -> @builtin(position) vec4<f32> {
    return globals.light_view_proj * vec4<f32>(world_position(v, inst), 1.0);
}

// Fraction of light reaching `world` (1 = lit): 3x3 PCF, or one tap when params.w > 0.5
// (the low render quality: on a software rasteriser every tap is CPU time).
fn shadow_factor(world: vec3<f32>, normal: vec3<f32>) -> f32 {
    let biased = world + normal * 0.01;
    let p = globals.light_view_proj * vec4<f32>(biased, 1.0);
    let ndc = p.xyz / p.w;
    let uv = vec2<f32>(ndc.x * 0.5 + 0.5, 0.5 - ndc.y * 0.5);
    if (uv.x < 0.0 || uv.x > 1.0 || uv.y < 0.0 || uv.y > 1.0 || ndc.z > 1.0) {
        return 1.0;
    }
    let texel = globals.params.x;
    if (globals.params.w > 0.5) {
        return textureSampleCompareLevel(shadow_map, shadow_sampler, uv, ndc.z - 0.002);
    }
    var lit = 0.0;
    for (var dy = -1; dy <= 1; dy = dy + 1) {
        for (var dx = -1; dx <= 1; dx = dx + 1) {
            let offset = vec2<f32>(f32(dx), f32(dy)) * texel * 1.5;
            lit = lit + textureSampleCompareLevel(shadow_map, shadow_sampler, uv + offset, ndc.z - 0.002);
        }
    }
    return lit / 9.0;
}

fn checker(world: vec3<f32>, base: vec3<f32>) -> vec3<f32> {
    let cell = floor(world.xy / 0.5);
    let parity = (i32(cell.x) + i32(cell.y)) & 1;
    var c = base * select(0.85, 1.1, parity == 1);
    // Thin lines every metre.
    let f = abs(fract(world.xy + 0.5) - 0.5);
    let line = min(f.x, f.y);
    c = mix(c * 0.7, c, smoothstep(0.0, 0.015, line));
    // Fade the pattern with distance so it does not shimmer on the horizon.
    let d = length(world - globals.eye.xyz);
    return mix(c, base, clamp(d / globals.params.z, 0.0, 1.0));
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Colours come in display (gamma) space; light in linear space.
    var base = pow(in.color.rgb, vec3<f32>(2.2));
    if ((in.flags & FLAG_CHECKER) != 0u) {
        base = checker(in.world, base);
    }
    let n = normalize(in.normal);
    let l = globals.light_dir.xyz;
    let v = normalize(globals.eye.xyz - in.world);
    let diffuse = max(dot(n, l), 0.0) * shadow_factor(in.world, n);
    let h = normalize(l + v);
    let specular = pow(max(dot(n, h), 0.0), 48.0) * 0.25 * diffuse;
    // Hemisphere ambient: sky above, ground bounce below.
    let sky = mix(vec3<f32>(0.32, 0.30, 0.28), vec3<f32>(0.45, 0.50, 0.60), n.z * 0.5 + 0.5);
    var rgb = base * (sky * globals.params.y + vec3<f32>(0.85) * diffuse) + vec3<f32>(specular);
    if ((in.flags & FLAG_SELECTED) != 0u) {
        let rim = pow(1.0 - max(dot(n, v), 0.0), 2.0);
        rgb = mix(rgb, vec3<f32>(1.0, 0.55, 0.1), 0.35 + 0.5 * rim);
    }
    // Distance fog towards the background colour.
    let d = length(in.world - globals.eye.xyz);
    let fog = clamp((d - globals.params.z) / (globals.params.z * 2.0), 0.0, 0.8);
    rgb = mix(rgb, vec3<f32>(0.16, 0.18, 0.22), fog);
    return vec4<f32>(pow(rgb, vec3<f32>(1.0 / 2.2)), in.color.a);
}
