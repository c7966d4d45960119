/**
 * @mlops/train — work in progress: see the project's issues for what lands here.
 * The package exists now so the workspace, build and exports map are in place.
 */
export const PACKAGE_NAME = "@mlops/train";
