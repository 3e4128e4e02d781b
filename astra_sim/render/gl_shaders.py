"""GLSL of the ``gl`` backend: the same surface colour as the Embree shader, per fragment.

The fragment shader repeats ``render.shading.SurfaceShader`` step for step (UV wrap, v flip,
nearest or bilinear texel from one packed RGBX array, a per-face light factor with the same
distance fall-off, 8.8 fixed-point light), so the two backends agree to a grey level where
they see the same surface point. Textures live in one integer texture holding the Embree
shader's packed texel array at its offsets (fetched by index, never filtered by GL): one
draw call serves every material and the texel arithmetic stays integer-exact. A face's
instance, texture layout and light factor ride on its vertices as one flat ``ivec4``
(``SURFACE_ATTRIBUTE``); only cube-map faces fetch the face's plane from a texture.

Texture filtering and the geometry output are compile-time variants (``fragment_source``),
not uniform branches: llvmpipe runs both sides of a branch for every pixel block, and the
bilinear side alone costs more than the rest of the shader.

Outputs: colour (RGBA8, alpha 1 on a hit), geometry (for pinhole views the z-depth alone,
R32F: every byte written per fragment costs llvmpipe; for cube-map faces, RGBA32F, the hit
triangle's world plane ``(n, n . (p - eye))``, so a resampled ray can intersect it
exactly), and the instance id (R32I).
"""

ATTRIBUTES = (("in_pos", "3f", 12), ("in_uv", "2f", 8), ("in_face", "1i", 4))
"""Vertex attributes in buffer order: name, moderngl format, bytes."""

SURFACE_ATTRIBUTE = "in_surface"
"""Per-vertex copy of its face's row (instance, width | height << 16, texel offset, light
bits), in a buffer of its own so that re-colouring rewrites only it. Carried to the fragment
shader as one flat varying: fetching it from a texture per fragment cost more (a texture
fetch per covered pixel, overdraw included) than a flat varying costs llvmpipe per triangle."""

VIEW_ATTRIBUTES = ("in_view0", "in_view1", "in_view2", "in_eye")
"""Per-view (instanced) attributes: the rows of the world -> eye transform, and the eye's
world position with the view's strip index in ``w``. One draw call serves every view of a
framebuffer: each indirect command's base instance names its view."""

_VERTEX = """
#version 330
#define CUBE_FACE @CUBE@
in vec3 in_pos;
in vec2 in_uv;
in ivec4 in_surface;
in vec4 in_view0;
in vec4 in_view1;
in vec4 in_view2;
in vec4 in_eye;
uniform vec4 u_proj;  // 2f / W, -2f / H (row 0 at the top), and the depth terms A, B
uniform vec2 u_offset;  // principal point off the image centre: 2 cx / W, 2 cy / H
uniform float u_strips;  // views stacked in the framebuffer
out vec3 v_view;
out vec2 v_uv;
flat out ivec4 v_surface;
#if CUBE_FACE
in int in_face;
flat out int v_face;
flat out vec3 v_eye;
#endif
void main() {
    vec4 p = vec4(in_pos, 1.0);
    v_view = vec3(dot(in_view0, p), dot(in_view1, p), dot(in_view2, p));
    v_uv = in_uv;
    v_surface = in_surface;
#if CUBE_FACE
    v_face = in_face;
    v_eye = in_eye.xyz;
#endif
    vec4 clip = vec4(u_proj.x * v_view.x, u_proj.y * v_view.y,
                     u_proj.z * v_view.z + u_proj.w, -v_view.z);
    clip.xy += u_offset * clip.w;
    // Keep the view inside its strip, then move the strip into place: the view's own
    // vertical clip planes, applied before the shift.
    gl_ClipDistance[0] = clip.w + clip.y;
    gl_ClipDistance[1] = clip.w - clip.y;
    clip.y = (clip.y + clip.w * (2.0 * in_eye.w + 1.0 - u_strips)) / u_strips;
    gl_Position = clip;
}
"""


def vertex_source(cube_face: bool) -> str:
    """The vertex shader for one geometry output (the cube-map variant carries the face
    index and eye its plane output needs; the pinhole one does not set them up)."""
    return _VERTEX.replace("@CUBE@", str(int(cube_face)))


TEXEL_SHIFT = 12
"""Texels are a 2-D texture 2^12 = 4096 wide: texel i sits at (i % 4096, i // 4096)."""

_FRAGMENT = """
#version 330
#define TEXEL_MASK @MASK@
#define TEXEL_SHIFT @SHIFT@
#define BILINEAR @BILINEAR@
#define CUBE_FACE @CUBE@
in vec3 v_view;
in vec2 v_uv;
flat in ivec4 v_surface;  // instance, width | height << 16, texel offset, light bits
uniform usampler2D u_texels;
uniform float u_attenuation;
layout(location = 0) out vec4 o_colour;
layout(location = 2) out int o_instance;
#if CUBE_FACE
flat in int v_face;
flat in vec3 v_eye;
uniform sampler2D u_planes;  // per face: world plane (n, n . p0)
layout(location = 1) out vec4 o_geometry;
#else
layout(location = 1) out float o_geometry;
#endif

uvec3 texel(int index) {
    return texelFetch(u_texels, ivec2(index & TEXEL_MASK, index >> TEXEL_SHIFT), 0).rgb;
}

void main() {
    ivec4 face = v_surface;
    int w = face.y & 65535, h = face.y >> 16, base = face.z;
    float t = length(v_view);
    float x = v_uv.x - floor(v_uv.x);
    float y = v_uv.y - floor(v_uv.y);
    y = 1.0 - y;
    x *= float(w);
    y *= float(h);
#if BILINEAR
    x -= 0.5;
    y -= 0.5;
    float x0 = floor(x), y0 = floor(y);
    float fx = x - x0, fy = y - y0;
    int c0 = ((int(x0) % w) + w) % w, r0 = ((int(y0) % h) + h) % h;
    int c1 = (c0 + 1) % w, r1 = (r0 + 1) % h;
    vec3 top = vec3(texel(base + r0 * w + c0)) * (1.0 - fx)
             + vec3(texel(base + r0 * w + c1)) * fx;
    vec3 bottom = vec3(texel(base + r1 * w + c0)) * (1.0 - fx)
                + vec3(texel(base + r1 * w + c1)) * fx;
    uvec3 c = uvec3(top * (1.0 - fy) + bottom * fy + 0.5);
#else
    uvec3 c = texel(base + min(int(y), h - 1) * w + min(int(x), w - 1));
#endif
    // Dividing by exactly 1.0 when attenuation is off is what skipping it gives.
    float light = intBitsToFloat(face.w) / (1.0 + u_attenuation * t);
    uint fixed_light = uint(light * 256.0 + 0.5);
    c = (c * fixed_light + 128u) >> 8;
    o_colour = vec4(vec3(c) / 255.0, 1.0);
#if CUBE_FACE
    vec4 plane = texelFetch(u_planes, ivec2(v_face & TEXEL_MASK, v_face >> TEXEL_SHIFT), 0);
    o_geometry = vec4(plane.xyz, plane.w - dot(plane.xyz, v_eye));
#else
    o_geometry = -v_view.z;
#endif
    o_instance = face.x;
}
"""


def fragment_source(bilinear: bool, cube_face: bool) -> str:
    """The fragment shader for one texture filter and one geometry output."""
    return (
        _FRAGMENT.replace("@MASK@", str((1 << TEXEL_SHIFT) - 1))
        .replace("@SHIFT@", str(TEXEL_SHIFT))
        .replace("@BILINEAR@", str(int(bilinear)))
        .replace("@CUBE@", str(int(cube_face)))
    )
