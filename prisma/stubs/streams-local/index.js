// Only `prisma dev` loads this module (lazily); this project uses its own PGlite setup instead.
export async function startLocalDurableStreamsServer() {
  throw new Error("`prisma dev` is not supported in this project (its streams runtime needs Node >= 22)");
}
