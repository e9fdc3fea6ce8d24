// archiver (cdktf/lib/private/fs.js requires it at load): only for zipping a TerraformAsset, which the
// tool never declares; with its dependencies ~190 modules. See cut-module.cjs.
module.exports = require("./cut-module.cjs").cutModule("archiver (cdktf's TerraformAsset zipping)");
