/** A valid Vortex encoding (or dtype under an encoding) lakemap does not decode: refused by name, never guessed. */
export class UnsupportedEncoding extends Error {
  override readonly name = 'UnsupportedEncoding';
}
