// vtk.js ships no typings for its OpenGL forward pass; the part the 3D view uses.
declare module '@kitware/vtk.js/Rendering/OpenGL/ForwardPass' {
  import type vtkRenderPass from '@kitware/vtk.js/Rendering/SceneGraph/RenderPass';

  const vtkForwardPass: { newInstance(): vtkRenderPass };
  export default vtkForwardPass;
}
