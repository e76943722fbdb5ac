// Per-frame uniforms shared by the scene and line shaders (prepended to both by the renderer).

struct Globals {
    view_proj: mat4x4<f32>,
    light_view_proj: mat4x4<f32>,
    eye: vec4<f32>,
    // Unit vector from the scene towards the light.
    light_dir: vec4<f32>,
    // x: shadow-map texel size, y: ambient strength, z: floor fade distance (m), w: 1 for one
    // shadow tap (low quality).
    params: vec4<f32>,
    // x, y: the view's size in pixels; z: line width in pixels; w: unused.
    viewport: vec4<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;
