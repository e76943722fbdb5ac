//! An orbit camera in MuJoCo's z-up world, with the conventions of MuJoCo's `simulate` viewer:
//! azimuth about +z in degrees, elevation negative when looking down, a look-at point and a distance.
use glam::{Mat4, Vec3};
use serde::{Deserialize, Serialize};

/// Where the camera looks from; serialisable so presets can hold it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrbitCamera {
    pub lookat: [f32; 3],
    pub azimuth_deg: f32,
    pub elevation_deg: f32,
    pub distance_m: f32,
    pub fovy_deg: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            lookat: [0.0, 0.0, 0.8],
            azimuth_deg: 90.0,
            elevation_deg: -15.0,
            distance_m: 4.0,
            fovy_deg: 45.0,
        }
    }
}

/// Elevation is kept inside this range (degrees) so the view never flips.
const MAX_ELEVATION_DEG: f32 = 89.0;
pub const MIN_DISTANCE_M: f32 = 0.05;
pub const MAX_DISTANCE_M: f32 = 500.0;

impl OrbitCamera {
    /// Unit vector from the eye towards the look-at point.
    pub fn forward(&self) -> Vec3 {
        let (az, el) = (
            self.azimuth_deg.to_radians(),
            self.elevation_deg.to_radians(),
        );
        Vec3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin())
    }

    pub fn eye(&self) -> Vec3 {
        Vec3::from(self.lookat) - self.forward() * self.distance_m
    }

    /// Camera right and up vectors (world frame).
    fn basis(&self) -> (Vec3, Vec3) {
        let f = self.forward();
        let right = f.cross(Vec3::Z).try_normalize().unwrap_or(Vec3::X);
        (right, right.cross(f))
    }

    pub fn view(&self) -> Mat4 {
        Mat4::look_at_rh(self.eye(), Vec3::from(self.lookat), Vec3::Z)
    }

    /// Perspective projection with depth in [0, 1] (wgpu's convention).
    pub fn projection(&self, aspect: f32) -> Mat4 {
        let near = (self.distance_m * 0.01).clamp(0.005, 0.1);
        Mat4::perspective_rh(self.fovy_deg.to_radians(), aspect.max(1e-3), near, 1000.0)
    }

    pub fn view_projection(&self, aspect: f32) -> Mat4 {
        self.projection(aspect) * self.view()
    }

    /// Left drag: turn about the look-at point; `dx`, `dy` in pixels.
    pub fn orbit(&mut self, dx: f32, dy: f32) {
        self.azimuth_deg = (self.azimuth_deg - dx * 0.3).rem_euclid(360.0);
        self.elevation_deg =
            (self.elevation_deg - dy * 0.3).clamp(-MAX_ELEVATION_DEG, MAX_ELEVATION_DEG);
    }

    /// Right drag: move the look-at point in the view plane so the scene follows the cursor;
    /// `height_px` is the viewport height.
    pub fn pan(&mut self, dx: f32, dy: f32, height_px: f32) {
        let metres_per_px =
            2.0 * self.distance_m * (self.fovy_deg.to_radians() * 0.5).tan() / height_px.max(1.0);
        let (right, up) = self.basis();
        let moved = Vec3::from(self.lookat) - right * dx * metres_per_px + up * dy * metres_per_px;
        self.lookat = moved.into();
    }

    /// Wheel: positive `scroll` (points) moves closer.
    pub fn zoom(&mut self, scroll: f32) {
        self.distance_m =
            (self.distance_m * (-scroll * 0.0025).exp()).clamp(MIN_DISTANCE_M, MAX_DISTANCE_M);
    }

    /// A view of a sphere of `radius_m` around `center` from the current direction.
    pub fn frame(&mut self, center: [f32; 3], radius_m: f32) {
        self.lookat = center;
        let half = (self.fovy_deg.to_radians() * 0.5).sin().max(0.1);
        self.distance_m = (radius_m.max(0.1) / half * 1.1).clamp(MIN_DISTANCE_M, MAX_DISTANCE_M);
    }

    /// The ray through pixel (`x`, `y`) of a `width` x `height` viewport (origin top-left):
    /// (origin, unit direction), for picking.
    pub fn ray(&self, x: f32, y: f32, width: f32, height: f32) -> (Vec3, Vec3) {
        let inv = self.view_projection(width / height.max(1.0)).inverse();
        let ndc_x = 2.0 * x / width.max(1.0) - 1.0;
        let ndc_y = 1.0 - 2.0 * y / height.max(1.0);
        let near = inv.project_point3(Vec3::new(ndc_x, ndc_y, 0.0));
        let far = inv.project_point3(Vec3::new(ndc_x, ndc_y, 1.0));
        (near, (far - near).normalize_or_zero())
    }

    /// Where `world` lands in a `width` x `height` viewport (pixels, origin top-left), if in front.
    pub fn project(&self, world: Vec3, width: f32, height: f32) -> Option<[f32; 2]> {
        let clip = self.view_projection(width / height.max(1.0)) * world.extend(1.0);
        (clip.w > 0.0).then(|| {
            let ndc = clip.truncate() / clip.w;
            [(ndc.x + 1.0) * 0.5 * width, (1.0 - ndc.y) * 0.5 * height]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looking_down_puts_the_eye_above() {
        let cam = OrbitCamera {
            elevation_deg: -30.0,
            ..OrbitCamera::default()
        };
        assert!(cam.eye().z > cam.lookat[2]);
        assert!((cam.eye().distance(Vec3::from(cam.lookat)) - cam.distance_m).abs() < 1e-4);
    }

    #[test]
    fn the_centre_ray_hits_the_lookat_point() {
        let cam = OrbitCamera::default();
        let (o, d) = cam.ray(400.0, 300.0, 800.0, 600.0);
        let to_target = Vec3::from(cam.lookat) - o;
        let along = to_target.dot(d);
        assert!((o + d * along).distance(Vec3::from(cam.lookat)) < 1e-3);
        let p = cam.project(Vec3::from(cam.lookat), 800.0, 600.0).unwrap();
        assert!((p[0] - 400.0).abs() < 0.5 && (p[1] - 300.0).abs() < 0.5);
    }

    #[test]
    fn orbit_pan_zoom_stay_in_range() {
        let mut cam = OrbitCamera::default();
        cam.orbit(0.0, -10_000.0);
        assert!(cam.elevation_deg <= MAX_ELEVATION_DEG);
        cam.zoom(1e6);
        assert!(cam.distance_m >= MIN_DISTANCE_M);
        let before = cam.lookat;
        cam.pan(100.0, 0.0, 600.0);
        assert_ne!(before, cam.lookat);
        assert!(
            (cam.lookat[2] - before[2]).abs() < 1e-3,
            "horizontal drag pans sideways"
        );
    }
}
