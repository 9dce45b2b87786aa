/** The error `act` throws, to assert on its class and fields; fails when it throws none. */
export function thrownBy(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}
