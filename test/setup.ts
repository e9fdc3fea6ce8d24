import { Testing } from "cdktf";

// cdktf's matchers: toHaveResource, toHaveResourceWithProperties, toHaveDataSourceWithProperties, …
Testing.setupJest();
